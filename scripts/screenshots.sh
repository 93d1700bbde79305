#!/usr/bin/env bash
# Screenshots of the main pages at 390 px and 1280 px into docs/screenshots/ (linked from the
# README), taken by the accessibility browser test from demo data. Needs Chromium like make e2e.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f docs/screenshots/*.png
# The problem report journey photographs its own pages (the report form, a report, Support's page),
# the sold-price test a listing with the history of stubs like it.
SCREENSHOTS_DIR="$PWD/docs/screenshots" .venv/bin/pytest e2e/test_accessibility.py e2e/test_problem_reports.py e2e/test_sold_prices.py \
  -q -p no:xdist "$@"
ls -1 docs/screenshots
