#!/bin/sh
# git's clean filter and diff textconv for notebooks (installed by `make hooks`): nbdev_clean_nbs from the
# project's own .venv, so `git add nbs/X.ipynb` works whether or not the venv is active.
#   tools/nb_filter.sh clean        < notebook  > cleaned notebook
#   tools/nb_filter.sh diff FILE    cleaned FILE, for `git diff`
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$root/.venv/bin/nbdev_clean_nbs" ]; then clean="$root/.venv/bin/nbdev_clean_nbs"
elif command -v nbdev_clean_nbs >/dev/null 2>&1; then clean=nbdev_clean_nbs
else
  echo "course_lib: cannot clean the notebook for git: neither $root/.venv/bin/nbdev_clean_nbs nor nbdev_clean_nbs on PATH." >&2
  echo "  Run 'make setup' (or activate the environment that has nbdev 1), then git add again." >&2
  exit 1
fi
case "$1" in
  clean) exec "$clean" --read_input_stream True ;;
  diff) exec "$clean" --disp True --fname "$2" ;;
  *) echo "usage: $0 clean | diff FILE" >&2; exit 2 ;;
esac
