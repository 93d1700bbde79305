#!/usr/bin/env bash
# `make bench`: runs every benchmark script in bench/ (bench/*.py and bench/*.sh) in turn.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"
export PATH="$ROOT_DIR/.venv/bin:$PATH"
shopt -s nullglob
scripts=(bench/*.py bench/*.sh)
if [ "${#scripts[@]}" = 0 ]; then
  echo "no benchmarks in bench/"
  exit 0
fi
for script in "${scripts[@]}"; do
  case "$(basename "$script")" in _* | conftest.py | __init__.py) continue ;; esac
  log "$script"
  case "$script" in
    *.py) "$VENV_PY" "$script" ;;
    *.sh) bash "$script" ;;
  esac
done
