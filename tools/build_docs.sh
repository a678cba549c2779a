#!/usr/bin/env bash
# nbdev_build_docs exits 0 even when a conversion fails: check its log.
set -euo pipefail
log=$(mktemp)
.venv/bin/nbdev_build_docs "$@" >"$log" 2>&1 || { cat "$log"; echo "ERROR: nbdev_build_docs failed" >&2; exit 1; }
if grep -q "Conversion failed" "$log"; then
  cat "$log"; echo "ERROR: nbdev_build_docs reported 'Conversion failed' (see above)" >&2; exit 1
fi
# nbdev gives cells that lack an id a random one on every build, and links backticked names it knows, guessing
# wrong in a few ways: drop those ids (rebuilding then changes nothing) and repair the links (see the script).
"${PY:-.venv/bin/python}" "$(dirname "$0")/fix_doc_links.py" docs >/dev/null
echo "docs: $(grep -c '^converting:' "$log" || true) notebooks converted to docs/"
rm -f "$log"
