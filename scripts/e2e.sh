#!/usr/bin/env bash
# `make e2e`: browser tests (Playwright driving Debian's Chromium) in e2e/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"
if ! compgen -G "e2e/test_*.py" >/dev/null; then
  echo "no browser tests in e2e/ yet"
  exit 0
fi
ensure_chromium_installed
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
# Playwright runs an event loop in the test thread; the ORM calls in fixtures are still sync.
export DJANGO_ALLOW_ASYNC_UNSAFE=true
pytest_allow_empty -q e2e "$@"
