#!/usr/bin/env bash
# Check the built site (_site/, from tools/build_site.sh):
#   1. links, #anchors and images of every page: htmlproofer (Debian: ruby-html-proofer), offline;
#   2. what only a browser sees: tools/site_smoke.py (headless Chromium via Playwright).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -f _site/index.html ] || { echo "check_site: _site/ not built (bash tools/build_site.sh)" >&2; exit 1; }
base=$(sed -nE 's/^baseurl:[[:space:]]*//p' docs/_config.yml)
base="/${base#/}"; base="${base%/}/"
command -v htmlproofer >/dev/null || { echo "check_site: htmlproofer not found (Debian: apt-get install ruby-html-proofer; elsewhere: gem install html-proofer -v 3.19.2)" >&2; exit 1; }
echo "== links, anchors, images (htmlproofer)"
# external links are not followed (offline); the site lives under $base, so map it to _site/
# (htmlproofer's own checks, each page parsed once: tools/htmlproofer_cached.rb; the plain command took minutes)
ruby tools/htmlproofer_cached.rb _site "$base" '/_screenshots/'
echo "== in the browser (tools/site_smoke.py)"
"$PY" tools/site_smoke.py
