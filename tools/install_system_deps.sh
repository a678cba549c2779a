#!/usr/bin/env bash
# Installs the Debian packages the docs site, the browser check and the data module use, when missing.
set -euo pipefail
pkgs=(jekyll ruby-rouge libjs-katex libjs-lunr chromium fonts-dejavu-core dataset-fashion-mnist)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then echo "system packages: all present (${pkgs[*]})"; exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "ERROR: missing Debian packages: ${missing[*]} — and apt-get is not available here." >&2
  echo "Install them with your system's package manager (Jekyll 4, KaTeX, lunr.js, Chromium), then re-run make." >&2
  exit 1
fi
SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
