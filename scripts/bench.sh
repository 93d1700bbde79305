#!/usr/bin/env bash
# `make bench` (BENCH_LISTINGS=N, default 100000): the benchmark suite of bench/.
#
# Starts a throwaway PostgreSQL 15, Redis, the offline Stripe sandbox and gunicorn (4 sync
# workers, DEBUG=false, bench.site.settings = the product's settings plus the reference page),
# seeds N listings with COPY, then runs bench/pages.py (wrk, every page alternating with the
# reference page), bench/checkout.py when present, and any other bench/*.py script. Everything
# is stopped and removed again on exit. Installs Debian's wrk, PostgreSQL and Redis if missing.
#
#   BENCH_LISTINGS=1000000   catalogue size            BENCH_SECONDS=5  wrk seconds per page and round
#   BENCH_ROUNDS=3           rounds of every page      BENCH_WORKERS=4  gunicorn workers
#   BENCH_ONLY=browse,deep   only the pages whose names contain one of these
#   BENCH_SCRIPTS=checkout   only the bench/*.py scripts whose names contain one of these
#                            (pages = bench/pages.py), e.g. the checkout alone
#   BENCH_JSON=path          also write the page figures as JSON
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"
export PATH="$ROOT_DIR/.venv/bin:$PATH"

LISTINGS="${BENCH_LISTINGS:-100000}"
WORKERS="${BENCH_WORKERS:-4}"
command -v wrk >/dev/null || apt_install wrk

SCRATCH="$(mktemp -d /tmp/stubcollector-bench.XXXXXX)"
GUNICORN_PID=""
SANDBOX_PID=""
cleanup() {
  for pid in "$GUNICORN_PID" "$SANDBOX_PID"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  pg_stop
  redis_stop
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start
redis_start
SANDBOX_PORT="$(free_port)"
SITE_PORT="$(free_port)"
export DJANGO_SETTINGS_MODULE=bench.site.settings
export DEBUG=false SECRET_KEY="bench-only-secret-key-not-for-anything-else-0123456789"
export ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=false LOG_LEVEL=WARNING
export MEDIA_ROOT="$SCRATCH/media" BENCH_STATIC_ROOT="$SCRATCH/static"
export STRIPE_SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT" SITE_URL="http://127.0.0.1:$SITE_PORT"
export BENCH_BASE_URL="$SITE_URL"

log "migrate and collectstatic"
"$VENV_PY" manage.py migrate --noinput -v 0
"$VENV_PY" manage.py collectstatic --noinput -v 0
log "seeding $LISTINGS listings (COPY)"
"$VENV_PY" bench/seed.py --listings "$LISTINGS"

log "Stripe sandbox on $STRIPE_SANDBOX_URL"
"$VENV_PY" -m stripe_sandbox --port "$SANDBOX_PORT" --state "$SCRATCH/sandbox.json" \
  --webhook "$SITE_URL/payments/webhook/=whsec_sandbox_platform" \
  --connect-webhook "$SITE_URL/payments/webhook/connect/=whsec_sandbox_connect" \
  >"$SCRATCH/sandbox.log" 2>&1 &
SANDBOX_PID=$!
wait_for_port "$SANDBOX_PORT" 30 || { cat "$SCRATCH/sandbox.log" >&2; die "the sandbox did not start"; }

log "gunicorn: $WORKERS sync workers on $SITE_URL"
# Not the project's gunicorn.conf.py (see bench/site/gunicorn.conf.py).
gunicorn --config bench/site/gunicorn.conf.py stubcollector.wsgi:application --workers "$WORKERS" --worker-class sync \
  --bind "127.0.0.1:$SITE_PORT" --log-level warning --error-logfile "$SCRATCH/gunicorn.log" &
GUNICORN_PID=$!
wait_for_port "$SITE_PORT" 60 || { cat "$SCRATCH/gunicorn.log" >&2; die "gunicorn did not start"; }

wanted() {  # is bench script $1 selected by BENCH_SCRIPTS (default: all)?
  [ -z "${BENCH_SCRIPTS:-}" ] && return 0
  local name
  for name in ${BENCH_SCRIPTS//,/ }; do
    case "$(basename "$1")" in *"$name"*) return 0 ;; esac
  done
  return 1
}

if wanted bench/pages.py; then
  log "pages (wrk, alternating with the reference page)"
  "$VENV_PY" bench/pages.py --base-url "$SITE_URL" --gunicorn-pid "$GUNICORN_PID" \
    ${BENCH_ONLY:+--only "$BENCH_ONLY"} ${BENCH_JSON:+--json "$BENCH_JSON"}
fi

# The other benchmarks (checkout, webhooks, ...) get the same servers through the environment.
export BENCH_GUNICORN_PID="$GUNICORN_PID"
shopt -s nullglob
for script in bench/*.py bench/*.sh; do
  case "$(basename "$script")" in
    _* | __init__.py | conftest.py | pages.py | seed.py) continue ;;
  esac
  wanted "$script" || continue
  log "$script"
  case "$script" in
    *.py) "$VENV_PY" "$script" ;;
    *.sh) bash "$script" ;;
  esac
done
