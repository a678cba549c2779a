#!/usr/bin/env bash
# Fails when the committed package, notebooks or docs differ from what the notebooks generate.
set -euo pipefail
B=.venv/bin
fail() { echo "ERROR: $*" >&2; exit 1; }
echo "== in sync: package, notebooks and docs"
$B/nbdev_build_lib >/dev/null
diff_out=$($B/nbdev_diff_nbs 2>&1)   # exits 0 even when different: test its output
[[ -z $diff_out ]] || { echo "$diff_out" | head -50; fail "course_lib/ differs from the notebooks (nbdev_diff_nbs above)"; }
$B/nbdev_clean_nbs --fname nbs       # from the repo root it does nothing without --fname
bash tools/build_docs.sh
changes=$(git status --porcelain --untracked-files=all -- course_lib nbs docs README.md settings.ini)
if [[ -n $changes ]]; then
  echo "$changes" | head -30
  git --no-pager diff --stat -- course_lib nbs docs README.md settings.ini | tail -20
  fail "regenerating changed committed files (above): run nbdev_build_lib, nbdev_clean_nbs --fname nbs and nbdev_build_docs, then commit"
fi
echo "in sync: course_lib/, nbs/ (clean) and docs/ match what the notebooks generate"
