#!/usr/bin/env bash
# The system tools the docs site and its checks use, installed when missing and possible.
#   Debian/Ubuntu with apt-get (as root, or with sudo that needs no password): installs them.
#   Anywhere else: says which are missing and how to get them, and exits 0, so `make` still installs the
#   Python side and builds the package and the docs pages; only the browsable site (_site/) and
#   `make test`'s site check need these tools. STRICT=1 makes a missing tool an error.
set -euo pipefail
pkgs=(jekyll ruby-rouge libjs-katex libjs-lunr chromium ruby-html-proofer fonts-dejavu-core dataset-fashion-mnist)
have_pkg() { command -v dpkg-query >/dev/null && dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${pkgs[@]}"; do have_pkg "$p" || missing+=("$p"); done
if [[ ${#missing[@]} -eq 0 ]]; then echo "system packages: all present (${pkgs[*]})"; exit 0; fi

SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
if command -v apt-get >/dev/null && { [[ -z $SUDO ]] || sudo -n true 2>/dev/null; }; then
  echo "system packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
  echo "system packages: installed ${missing[*]}"
  exit 0
fi

# No way to install them here: report what is missing by tool, not by Debian package name.
tools=()
command -v jekyll >/dev/null || tools+=("jekyll (builds the site)")
command -v htmlproofer >/dev/null || tools+=("htmlproofer (checks its links)")
command -v chromium >/dev/null || [[ -x /usr/bin/chromium ]] || tools+=("chromium (the browser check)")
[[ -e /usr/share/javascript/katex/katex.min.js || -n ${KATEX_DIR:-} ]] || tools+=("KaTeX (math on the site)")
[[ -e /usr/share/javascript/lunr/lunr.min.js || -n ${LUNR_DIR:-} ]] || tools+=("lunr.js (site search)")
if [[ ${#tools[@]} -eq 0 ]]; then echo "system tools: all found"; exit 0; fi
{
  echo "NOTE: the docs site needs tools this machine lacks:"
  for t in "${tools[@]}"; do echo "  - $t"; done
  if command -v apt-get >/dev/null; then
    echo "  install them with: sudo apt-get install ${missing[*]}"
  else
    echo "  macOS (Homebrew): brew install ruby chromium && gem install jekyll html-proofer:3.19.2"
    echo "  Fedora: sudo dnf install rubygem-jekyll chromium && gem install html-proofer:3.19.2"
    echo "  KaTeX and lunr from npm: npm install katex lunr, then KATEX_DIR=node_modules/katex/dist LUNR_DIR=node_modules/lunr"
  fi
  echo "  Without them, make still installs the Python side and builds course_lib/ and the pages in docs/;"
  echo "  the notebooks and the package need none of these."
} >&2
[[ -z ${STRICT:-} ]] || exit 1
