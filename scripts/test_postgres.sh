#!/usr/bin/env bash
# `make test-postgres`: the whole suite against a throwaway PostgreSQL 15 cluster (and a
# throwaway Redis as the cache with WITH_REDIS=1), stopped again afterwards.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"
trap 'pg_stop; redis_stop' EXIT
pg_start
if [ -n "${WITH_REDIS:-}" ]; then redis_start; fi
echo "DATABASE_URL=$DATABASE_URL CACHE_URL=${CACHE_URL:-(default)}"
scripts/test.sh "$@"
