#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests, if it is missing and we may install it.
# The browser tests skip themselves (with the reason) when no Chromium is available.
set -u
have_font() { fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; }
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && have_font; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: installing Debian's chromium for the browser tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei) >/dev/null 2>&1 \
    || echo "setup-browser: could not install chromium; browser tests will be skipped" >&2
else
  echo "setup-browser: chromium not found and not root; browser tests will be skipped" >&2
fi
exit 0
