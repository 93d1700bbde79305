#!/usr/bin/env bash
# `make test` / `make test-all`: the unit and request suites (pytest.ini's testpaths) on the
# configured database (SQLite by default). Extra arguments go to pytest, e.g. scripts/test.sh -k
# webhook; `--sweeps=sample` (what `make test` passes) keeps a fixed share of each exhaustive
# sweep (testing/sample.py), the default runs every case.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"
# pytest keeps its assertion-rewritten test modules (and Python its bytecode) in __pycache__
# (git-ignored) only when bytecode may be written: each xdist worker otherwise re-parses and
# rewrites every test module, ~4 CPU-seconds per process on every run (docs/performance.md, change 13).
unset PYTHONDONTWRITEBYTECODE
# Two workers on the two cores; PYTEST_WORKERS=0 runs in one process (easier to debug).
workers="${PYTEST_WORKERS:-2}"
# The browser tests' plugin (pytest-playwright) is not needed by these suites; importing it cost
# ~0.5 CPU-s in each process.
args=(-q -p no:playwright)
# worksteal: a worker that runs out of tests takes half of the other's queue, so a few long tests
# queued late on one worker do not leave the other core idle at the end.
if [ "$workers" != 0 ]; then args+=(-n "$workers" --dist worksteal); fi
exec .venv/bin/pytest "${args[@]}" "$@"
