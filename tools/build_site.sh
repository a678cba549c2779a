#!/usr/bin/env bash
# Build the offline docs site:  bash tools/build_site.sh [REPO_ROOT]      (about 2 s)
#
# 1. stages a copy of docs/ (pages written by nbdev_build_docs + our theme: _layouts/, _includes/,
#    assets/, 404.html, _config.yml) and of the notebooks (nbs/*.ipynb, offered as downloads in each
#    page's footer) in a temporary folder; docs/ itself is never modified;
# 2. quotes the notebook-derived front matter there (tools/fix_front_matter.py: nbdev 1 writes
#    `title: Data: MNIST ...` unquoted, which is invalid YAML);
# 3. copies third-party assets -- KaTeX css/js/fonts + auto-render, lunr -- from the Debian packages
#    libjs-katex and libjs-lunr into assets/vendor/ of that copy (never committed);
# 4. runs `jekyll build` into _site/, and fails (non-zero) on any Jekyll warning or error (missing
#    layout or include, bad front matter, Liquid errors), on unrendered Liquid, or on resources loaded
#    from the network;
# 5. adds each page's table of contents, the line saying which video lesson and 2019 notebook it follows
#    (tools/course_map.py), folds set-up cells, wraps tables to scroll, and writes the search index
#    _site/search.json (one record per page, section and API entry: tools/site_extras.py).
#
# The site root is _site/; it is published under the baseurl /course_lib/ (docs/_config.yml):
# `make serve` runs `jekyll serve --skip-initial-build --no-watch`, which serves it there.
# Other asset sources: KATEX_DIR=node_modules/katex/dist LUNR_DIR=node_modules/lunr bash tools/build_site.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${1:-$here/..}"
root="$(cd "$root" && pwd)"
cd "$root"
src=docs
dest="$root/_site"
KATEX_DIR="${KATEX_DIR:-/usr/share/javascript/katex}"
LUNR_DIR="${LUNR_DIR:-/usr/share/javascript/lunr}"

die() { echo "build_site: ERROR: $*" >&2; exit 1; }
missing() { echo "build_site: MISSING TOOL: $*" >&2; exit 3; }   # exit 3: `make` goes on without the site

[ -f "$src/_config.yml" ] || die "$root/$src/_config.yml not found (run from the repo root or pass it)"
[ -d "$src/_layouts" ] || die "$root/$src/_layouts/ not found (the docs theme)"
command -v jekyll >/dev/null || missing "jekyll not found: the docs pages in docs/ are built, the browsable site is not.
  Debian/Ubuntu: sudo apt-get install jekyll ruby-rouge libjs-katex libjs-lunr
  macOS: brew install ruby && gem install jekyll; Fedora: sudo dnf install rubygem-jekyll
  (KaTeX and lunr from npm then: KATEX_DIR=node_modules/katex/dist LUNR_DIR=node_modules/lunr)"
command -v python3 >/dev/null || die "python3 not found"
for f in katex.min.css katex.min.js contrib/auto-render.js fonts/KaTeX_Main-Regular.woff2; do
  [ -e "$KATEX_DIR/$f" ] || missing "$KATEX_DIR/$f missing (Debian: apt-get install libjs-katex fonts-katex; or KATEX_DIR=node_modules/katex/dist)"
done
[ -e "$LUNR_DIR/lunr.min.js" ] || [ -e "$LUNR_DIR/lunr.js" ] \
  || missing "$LUNR_DIR/lunr.min.js missing (Debian: apt-get install libjs-lunr; or LUNR_DIR=node_modules/lunr)"

start=$(date +%s)
stage="$(mktemp -d "${TMPDIR:-/tmp}/course_lib_site.XXXXXX")"
log="$stage.log"
trap 'rm -rf "$stage" "$log"' EXIT

# --- 1-2. staged copy of docs/ with valid front matter
cp -a "$src/." "$stage/"
rm -rf "$stage/assets/vendor" "$stage/.jekyll-cache" "$stage/_site" "$stage/search.json"
mkdir -p "$stage/nbs" && cp nbs/*.ipynb "$stage/nbs/"
python3 "$here/fix_front_matter.py" "$stage" >/dev/null

# --- 3. vendor assets (dereference Debian's symlinks: katex.min.js -> katex.js, fonts -> /usr/share/fonts/...)
vendor="$stage/assets/vendor"
mkdir -p "$vendor/katex/contrib" "$vendor/katex/fonts" "$vendor/lunr"
cp -L "$KATEX_DIR/katex.min.css" "$KATEX_DIR/katex.min.js" "$vendor/katex/"
cp -L "$KATEX_DIR/contrib/auto-render.js" "$vendor/katex/contrib/"
for ext in woff2 woff ttf; do
  compgen -G "$KATEX_DIR/fonts/*.$ext" >/dev/null && cp -L "$KATEX_DIR"/fonts/*."$ext" "$vendor/katex/fonts/"
done
if [ -e "$LUNR_DIR/lunr.min.js" ]; then cp -L "$LUNR_DIR/lunr.min.js" "$vendor/lunr/"; else cp -L "$LUNR_DIR/lunr.js" "$vendor/lunr/lunr.min.js"; fi
for f in $(grep -o 'fonts/KaTeX_[A-Za-z0-9_-]*\.woff2' "$vendor/katex/katex.min.css" | sort -u); do
  [ -e "$vendor/katex/$f" ] || die "KaTeX font $f (used by katex.min.css) missing in $KATEX_DIR/fonts"
done

# --- 4. jekyll
if ! jekyll build --source "$stage" --destination "$dest" --strict_front_matter --disable-disk-cache >"$log" 2>&1; then
  grep -v '^[[:space:]]*from /' "$log" | sed "s#$stage#$src#g" >&2
  if grep -q 'YAML Exception' "$log"; then
    echo "build_site: hint: a page's front matter is not valid YAML (tools/fix_front_matter.py quotes title/summary/description only)" >&2
  fi
  die "jekyll build failed"
fi
sed "s#$stage#$src#g" "$log"
pat='warn|error|exception|deprecat|does not exist|could not|not found'
if grep -Eiq "$pat" "$log"; then
  echo "----" >&2
  grep -Ei "$pat" "$log" | sed "s#$stage#$src#g" >&2
  die "jekyll reported warnings (see above)"
fi

# --- sanity checks on the output
[ -f "$dest/index.html" ] || die "$dest/index.html was not generated"
[ -f "$dest/assets/vendor/katex/katex.min.js" ] || die "vendor assets did not reach $dest (Jekyll exclude?)"
[ -f "$dest/nbs/index.ipynb" ] || die "the notebooks did not reach $dest/nbs/ (footer downloads)"
# --- 5. tables of contents and the search index
baseurl=$(sed -nE 's/^baseurl:[[:space:]]*//p' "$src/_config.yml")
python3 "$here/site_extras.py" "$dest" "$baseurl"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d and all("url" in r and "title" in r for r in d)' "$dest/search.json" \
  || die "$dest/search.json is not a valid, non-empty search index"
left=$(grep -l '{%' "$dest"/*.html || true)
[ -z "$left" ] || die "unrendered Liquid tags in: $left"
# nothing may be loaded from the network (links to e.g. GitHub are fine; scripts, styles, images are not)
ext=$(grep -HoE '(<(script|img|iframe|source|video|audio|embed)[^>]* src|<link[^>]* href)=["'"'"'](https?:)?//[^"'"'"']*' "$dest"/*.html || true)
[ -z "$ext" ] || die "pages load resources from the network:"$'\n'"$ext"

npages=$(find "$dest" -maxdepth 1 -name '*.html' | wc -l)
echo "build_site: OK: $npages pages in $dest/ ($(( $(date +%s) - start ))s); published under /course_lib/"
echo "build_site: browse: make serve  ->  http://127.0.0.1:4000${baseurl}"
