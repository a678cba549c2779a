#!/usr/bin/env bash
# `make hooks`: git cleans notebooks as they are staged (execution counts and metadata go, outputs stay) and
# diffs them cleaned. The filter runs tools/nb_filter.sh, which finds nbdev_clean_nbs in the project's .venv,
# so it works from any shell, with or without the venv activated. Written to this clone's own git config and
# info/attributes: nothing committed changes. Undo: git config --local --remove-section filter.clean-nbs
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
filter="sh '$root/tools/nb_filter.sh'"
git config --local filter.clean-nbs.clean "$filter clean"
git config --local filter.clean-nbs.smudge cat
git config --local filter.clean-nbs.required true
git config --local diff.ipynb.textconv "$filter diff"
attrs=$(git rev-parse --git-path info/attributes)
mkdir -p "$(dirname "$attrs")"
touch "$attrs"
grep -qxF '*.ipynb filter=clean-nbs diff=ipynb' "$attrs" || echo '*.ipynb filter=clean-nbs diff=ipynb' >> "$attrs"
echo "hooks: notebooks are cleaned by $root/tools/nb_filter.sh when staged (git add), with or without an active venv"
