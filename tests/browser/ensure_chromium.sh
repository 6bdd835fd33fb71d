#!/bin/sh
# `make test`: the browser tests need a Chromium or Chrome (Playwright's own browser download is
# not used). Finds one; as root on Debian without one, installs Debian's `chromium`; otherwise
# stops with a message saying how to install one. The browser tests never skip.
set -e
if [ -n "$CMDM_CHROMIUM" ] && [ -x "$CMDM_CHROMIUM" ]; then exit 0; fi
for name in chromium chromium-browser google-chrome google-chrome-stable chrome; do
  if command -v "$name" >/dev/null 2>&1; then exit 0; fi
done
if [ "$(id -u)" = "0" ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
  echo "tests/browser: no Chromium found; installing Debian's chromium package"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  exit 0
fi
echo "tests/browser needs Chromium or Chrome: install one (Debian/Ubuntu: sudo apt-get install -y chromium)," >&2
echo "or set CMDM_CHROMIUM=/path/to/chrome, then run make test again." >&2
exit 1
