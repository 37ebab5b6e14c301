#!/usr/bin/env bash
# Installs Debian's chromium (the browser the console's end-to-end tests drive through
# Playwright: Playwright cannot download its own browsers here) and a CJK font (the console
# in Chinese), and prints the browser's path.
#   scripts/chromium.sh   -> /usr/bin/chromium
set -euo pipefail

find_browser() {
  local b
  for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
  done
  return 1
}

missing=()
find_browser >/dev/null || missing+=(chromium)
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then missing+=(fonts-noto-cjk); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} from Debian packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
fi
find_browser
