#!/usr/bin/env bash
# Installs the Debian packages some tests drive for real, if they are missing and we may install them:
#   chromium, chromium-driver and a CJK font  - the browser tests (tests/test_browser.py)
#   wrk                                         - the benchmark smoke tests (tests/test_bench.py)
# Tests whose tool is still missing skip themselves and say which package they need.
set -u
have_font() { fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; }
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
have_font || missing+=(fonts-wqy-microhei)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup-system: installing ${missing[*]} for the tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1 \
    || echo "setup-system: could not install ${missing[*]}; the tests that need them will be skipped" >&2
else
  echo "setup-system: ${missing[*]} missing and not root; the tests that need them will be skipped" >&2
fi
exit 0
