#!/usr/bin/env bash
# Creates .venv with Python 3.11 when missing and installs the pinned requirements.
# The Makefile runs this only when requirements*.txt are newer than .venv/.installed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"

if [ ! -x .venv/bin/python ]; then
  python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3 /usr/bin/python3.11 "$HOME"/.pyenv/versions/3.11*/bin/python3.11; do
      if command -v "$candidate" >/dev/null &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        python="$candidate"
        break
      fi
    done
  fi
  [ -n "$python" ] || die "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"
  log "creating .venv with $($python --version)"
  if ! "$python" -m venv .venv; then
    # Debian's own Python needs its venv package for ensurepip.
    rm -rf .venv
    apt_install python3.11-venv
    "$python" -m venv .venv
  fi
fi

log "installing pinned requirements into .venv (first time: 1-2 minutes)"
# This machine's pip config may name local package folders that do not exist; pip warns about
# each one. Drop that noise, keep everything else (pipefail keeps pip's exit status).
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt 2>&1 |
  { grep -v "^WARNING: Location 'file://.*' is ignored" || true; }
touch .venv/.installed
