# course_lib — `make` sets everything up and builds; `make test` runs every check CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 4000
export MPLBACKEND := Agg
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := all
# torch's exact version is written once, in requirements-pins.txt; it is installed first, from its CPU build
# where this machine's pip finds one: a bare `torch` requirement would pull a multi-GB CUDA build.
TORCH  := $(shell grep -E '^torch==' requirements-pins.txt)

.PHONY: bench-smoke all setup system-deps lib docs site serve hooks test check-sync test-nbs test-py check-site lab bench clean distclean

all: setup lib docs ## install, regenerate course_lib/ from the notebooks, build the docs pages and site
	@echo
	@if [ -f _site/index.html ]; then echo "Built: package course_lib/ (from nbs/), docs pages docs/, site _site/."; \
	  echo "Browse it: make serve   (then open http://127.0.0.1:$(PORT)/course_lib/); notebooks: make lab"; \
	else echo "Built: package course_lib/ (from nbs/) and docs pages docs/. Not built: the site _site/ (a tool is missing, see above)."; \
	  echo "Notebooks: make lab"; fi

setup: system-deps $(STAMP)

system-deps:
	@bash tools/install_system_deps.sh

$(STAMP): requirements-pins.txt constraints.txt setup.py settings.ini
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "$(TORCH)"
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-pins.txt -c constraints.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -e . -c constraints.txt
	$(BIN)/python -m pip check
	@touch $@

lib: setup ## regenerate course_lib/ from the notebooks
	$(BIN)/nbdev_build_lib

docs: lib ## regenerate docs/ from the notebooks and, where jekyll is installed, build the site into _site/
	@bash tools/build_docs.sh
	@bash tools/build_site.sh || { rc=$$?; [ $$rc -eq 3 ] || exit $$rc; echo "docs: pages in docs/ built; the site was skipped (missing tool above)"; }

site: setup
	@bash tools/build_site.sh

serve: ## serve _site on 127.0.0.1:$(PORT) under the baseurl /course_lib/
	@test -f _site/index.html || bash tools/build_site.sh
	jekyll serve --skip-initial-build --no-watch --source docs --destination _site --host 127.0.0.1 --port $(PORT)

hooks: setup ## git filter: notebooks are cleaned when staged, with or without an active venv
	@bash tools/install_hooks.sh

test: setup check-sync test-nbs test-py check-site bench-smoke ## every check CI runs
	@echo "make test: all checks passed"

check-sync:
	@bash tools/check_sync.sh

test-nbs:
	@echo "== notebooks run (nbdev_test_nbs, CPU, no network)"
	$(BIN)/nbdev_test_nbs --timing

test-py:
	@echo "== package tests (pytest tests/)"
	$(BIN)/python -m pytest tests -q -n 2 -p no:cacheprovider

check-site:
	@echo "== docs site (jekyll build, htmlproofer, headless Chromium smoke test)"
	@STRICT=1 bash tools/install_system_deps.sh
	@bash tools/build_site.sh
	@bash tools/check_site.sh

bench-smoke: # the benchmarks still run (each --quick, two at a time: they use one thread; no timing is asserted)
	@echo "== benchmarks run (--quick smoke run)"
	@printf '%s\n' bench/*.py | xargs -P 2 -I{} bash -c 'echo "-- {} --quick"; $(BIN)/python {} --quick > /dev/null || { echo "ERROR: {} --quick failed" >&2; exit 1; }'

lab: setup ## JupyterLab on nbs/
	$(BIN)/jupyter lab --notebook-dir nbs

bench: setup ## benchmarks (ratios to the best alternative, side by side); QUICK=1 for a short run
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-bench.txt -c constraints.txt "$(TORCH)"
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f $(if $(QUICK),--quick,); done

clean: ## remove build outputs (keeps .venv)
	rm -rf _site .jekyll-cache docs/assets/vendor .pytest_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
