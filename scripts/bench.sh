#!/usr/bin/env bash
# `make bench` (BENCH_LISTINGS=N, default 100000): the benchmark suite of bench/.
#
# Starts a throwaway PostgreSQL 15, Redis, the offline Stripe sandbox and gunicorn (DEBUG=false,
# bench.site.settings = the product's settings plus the reference page), seeds N listings with
# COPY, then runs bench/pages.py (wrk, every page alternating with the reference page; its churn
# rows start bench/churn.py), bench/checkout.py when present, and any other bench/*.py script.
# Everything is stopped and removed again on exit. Installs Debian's wrk, PostgreSQL and Redis
# if missing.
#
#   BENCH_LISTINGS=1000000   catalogue size            BENCH_SECONDS=5  wrk seconds per page and round
#   BENCH_ROUNDS=3           rounds of every page      BENCH_WORKERS    gunicorn workers (3 / 4)
#   BENCH_GUNICORN=product   gunicorn as `make serve` runs it (the default): the project's
#                            gunicorn.conf.py (gthread workers, 4 threads, max_requests), LOG_LEVEL
#                            unset (INFO), JSON logs and the access log, into a file as serve does;
#                            3 workers as serve starts. BENCH_GUNICORN=bench: the bench's own 4
#                            sync workers, LOG_LEVEL=WARNING, no access log (the figures before).
#   BENCH_ONLY=browse,deep   only the pages whose names contain one of these; the row groups:
#                            [miss], [buyer], [churn], [mixed (the reference always runs)
#   BENCH_SCRIPTS=checkout   only the bench/*.py scripts whose names contain one of these
#                            (pages = bench/pages.py), e.g. the checkout alone
#   BENCH_BUYER_SESSIONS=50  logged-in buyers the [buyer] and [mixed] rows rotate through
#   BENCH_CHURN_RATE=20      listings the churn writer saves a second
#   BENCH_JSON=path          also write the page figures as JSON
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"
export PATH="$ROOT_DIR/.venv/bin:$PATH"

LISTINGS="${BENCH_LISTINGS:-100000}"
GUNICORN_SETUP="${BENCH_GUNICORN:-product}"
case "$GUNICORN_SETUP" in
  product) WORKERS="${BENCH_WORKERS:-3}" ;;
  bench) WORKERS="${BENCH_WORKERS:-4}" ;;
  *) die "BENCH_GUNICORN is product or bench, not $GUNICORN_SETUP" ;;
esac
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
export ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=false
if [ "$GUNICORN_SETUP" = bench ]; then export LOG_LEVEL=WARNING; fi
export MEDIA_ROOT="$SCRATCH/media" BENCH_STATIC_ROOT="$SCRATCH/static"
export STRIPE_SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT" SITE_URL="http://127.0.0.1:$SITE_PORT"
export BENCH_BASE_URL="$SITE_URL" BENCH_SCRATCH="$SCRATCH"

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

if [ "$GUNICORN_SETUP" = product ]; then
  export BENCH_GUNICORN_LABEL="product: gunicorn.conf.py, $WORKERS gthread workers x ${GUNICORN_THREADS:-4} threads, LOG_LEVEL ${LOG_LEVEL:-INFO}, JSON logs and access log to a file (as make serve)"
  log "gunicorn: $BENCH_GUNICORN_LABEL, on $SITE_URL"
  # As scripts/serve.sh runs it: the project's gunicorn.conf.py, its logs into a file. The
  # Celery broker on the bench Redis, as the bench gunicorn.conf.py sets it for the other setup.
  rm -rf "$SCRATCH/prometheus" && mkdir -p "$SCRATCH/prometheus"
  export BENCH_GUNICORN_LOG="$SCRATCH/gunicorn.log"  # bench/pages.py counts the worker restarts in it
  CELERY_BROKER_URL="${CACHE_URL%/*}/2" PROMETHEUS_MULTIPROC_DIR="$SCRATCH/prometheus" GUNICORN_BIND="127.0.0.1:$SITE_PORT" GUNICORN_WORKERS="$WORKERS" \
    gunicorn -c gunicorn.conf.py stubcollector.wsgi >"$SCRATCH/gunicorn.log" 2>&1 &
else
  export BENCH_GUNICORN_LABEL="bench: bench/site/gunicorn.conf.py, $WORKERS sync workers, LOG_LEVEL WARNING, no access log"
  log "gunicorn: $BENCH_GUNICORN_LABEL, on $SITE_URL"
  # Not the project's gunicorn.conf.py (see bench/site/gunicorn.conf.py).
  gunicorn --config bench/site/gunicorn.conf.py stubcollector.wsgi:application --workers "$WORKERS" --worker-class sync \
    --bind "127.0.0.1:$SITE_PORT" --log-level warning --error-logfile "$SCRATCH/gunicorn.log" &
fi
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
export BENCH_GUNICORN_PID="$GUNICORN_PID" BENCH_WORKERS="$WORKERS" BENCH_GUNICORN="$GUNICORN_SETUP"
shopt -s nullglob
for script in bench/*.py bench/*.sh; do
  case "$(basename "$script")" in
    # chaos.py starts a whole `make serve HOSTS=2` of its own (CI's soak stage, docs/operations.md).
    _* | __init__.py | conftest.py | pages.py | seed.py | churn.py | chaos.py) continue ;;
  esac
  wanted "$script" || continue
  log "$script"
  case "$script" in
    *.py) "$VENV_PY" "$script" ;;
    *.sh) bash "$script" ;;
  esac
done
