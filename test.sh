#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run all tests.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "== installing Debian's postgresql for the team-mode store tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq postgresql >/dev/null
fi
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
# The whole suite on both cores: the browser tests (one chromium, Playwright's event loop) in
# one pytest process, after a few slow modules so that both end together; every other test
# in a second one beside it; then, alone, the one test that times pages under load. The
# browser part's report follows the other's. All must pass.
ALONE=tests/test_sessions_browser.py
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
.venv/bin/python -m pytest -m "browser or beside_browser" --ignore "$ALONE" -p no:cacheprovider \
  >"$LOG" 2>&1 &
BROWSER=$!
status=0
.venv/bin/python -m pytest -m "not browser and not beside_browser" || status=$?
wait "$BROWSER" || status=$?
echo "== the browser tests (run beside the others)"
cat "$LOG"
echo "== alone: pages timed under load"
.venv/bin/python -m pytest -p no:cacheprovider "$ALONE" || status=$?
exit "$status"
