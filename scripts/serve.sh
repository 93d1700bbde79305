#!/usr/bin/env bash
# `make serve`: the production-like stack on loopback, started and stopped together:
#   PostgreSQL 15 (throwaway cluster), Redis (cache, rate limits and Celery broker),
#   the offline Stripe sandbox, gunicorn (gunicorn.conf.py, DEBUG=false, JSON logs),
#   a Celery worker and Celery beat. Demo data is seeded. Ctrl-C (or SIGTERM) stops it all.
# MEDIA_S3=moto keeps uploads (photos, dispute evidence) on a local S3 server (moto_server, on a
#   free port) instead of the state folder's disk, as a multi-host deploy keeps them on S3.
# SERVE_ADDRESS (default 127.0.0.1:8000) and STRIPE_SANDBOX_URL move the ports; SERVE_STATE_DIR
# keeps logs and pids (default: a scratch folder, removed on exit unless SERVE_KEEP_STATE=1).
# Everything lives as long as this script: the database is thrown away on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"
PY="$VENV_PY"
BIN="$ROOT_DIR/.venv/bin"

HOST_PORT="${SERVE_ADDRESS:-127.0.0.1:8000}"
SITE="http://$HOST_PORT"
STATE="${SERVE_STATE_DIR:-$(mktemp -d /tmp/stubcollector-serve.XXXXXX)}"
mkdir -p "$STATE"
SANDBOX_URL="${STRIPE_SANDBOX_URL:-http://127.0.0.1:12111}"
SANDBOX_PORT="${SANDBOX_URL##*:}"
SANDBOX_PORT="${SANDBOX_PORT%%/*}"

if (exec 3<>"/dev/tcp/${HOST_PORT%:*}/${HOST_PORT##*:}") 2>/dev/null; then
  die "$HOST_PORT is taken: is make run or make serve still running? (SERVE_ADDRESS=127.0.0.1:8001 make serve)"
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$SANDBOX_PORT") 2>/dev/null; then
  die "port $SANDBOX_PORT is taken: is another Stripe sandbox still running? (STRIPE_SANDBOX_URL moves it)"
fi

declare -a PIDS=()
stopping=""
stop_all() {
  [ -n "$stopping" ] && return
  stopping=1
  # A TERM arriving now (a service died and the caller stops us too) would run `exit` and cut
  # this stop short, leaving gunicorn in its graceful shutdown after we are gone.
  trap '' INT TERM
  log "stopping gunicorn, Celery, the sandbox, moto (if started), Redis and PostgreSQL"
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  redis_stop
  pg_stop
  if [ -z "${SERVE_KEEP_STATE:-}" ] && [ -z "${SERVE_STATE_DIR:-}" ]; then rm -rf "$STATE"; fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# -- data stores ---------------------------------------------------------------------------------
pg_start
redis_start
echo "pg_dir=$PG_DIR" >"$STATE/serve.env"
echo "pg_port=$PG_PORT" >>"$STATE/serve.env"
echo "redis_pid=$REDIS_PID" >>"$STATE/serve.env"
echo "redis_port=$REDIS_PORT" >>"$STATE/serve.env"
echo "sandbox_port=$SANDBOX_PORT" >>"$STATE/serve.env"

# -- shared file storage: local disk, or with MEDIA_S3=moto an S3 server (docs/deploy.md) ---------
if [ "${MEDIA_S3:-}" = "moto" ]; then
  MOTO_PORT="$(free_port "${MOTO_PORT_START:-}")"
  log "S3 (moto_server) on 127.0.0.1:$MOTO_PORT (log: $STATE/moto.log)"
  "$BIN/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$STATE/moto.log" 2>&1 &
  PIDS+=($!)
  echo "moto_pid=$!" >>"$STATE/serve.env"
  echo "moto_port=$MOTO_PORT" >>"$STATE/serve.env"
  wait_for_port "$MOTO_PORT" 30 || { tail -n 30 "$STATE/moto.log" >&2; die "moto_server did not start"; }
  export MEDIA_S3_BUCKET=stubcollector-media MEDIA_S3_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
  export MEDIA_S3_REGION=us-east-1 MEDIA_S3_ACCESS_KEY_ID=moto MEDIA_S3_SECRET_ACCESS_KEY=moto
elif [ -n "${MEDIA_S3:-}" ]; then
  die "MEDIA_S3=$MEDIA_S3: the one value is moto (a local S3 server); leave it unset for local disk"
fi

# -- the environment of a production host (docs/deploy.md), on plain HTTP over loopback ------------
export DEBUG=false
export SECRET_KEY="serve-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS="127.0.0.1,localhost"
export SITE_URL="$SITE"
export CACHE_URL="redis://127.0.0.1:$REDIS_PORT/0"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/1"
export STRIPE_SANDBOX_URL="$SANDBOX_URL"
export SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false SECURE_HSTS_SECONDS=0
export SERVE_MEDIA=true MEDIA_ROOT="$STATE/media"
export LOG_FORMAT=json
export PROMETHEUS_MULTIPROC_DIR="$STATE/prometheus"
export GUNICORN_BIND="$HOST_PORT" GUNICORN_WORKERS="${GUNICORN_WORKERS:-3}"
unset STRIPE_SECRET_KEY STRIPE_PUBLISHABLE_KEY STRIPE_API_HOST STRIPE_JS_URL
# With DEBUG off, /metrics and /readyz's details need the bearer token: one per run, kept in
# the state folder (readable by this user only) for the smoke test and the operator.
export METRICS_TOKEN="metrics-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
(umask 077 && printf '%s\n' "$METRICS_TOKEN" >"$STATE/metrics_token")
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

log "migrate (a fresh PostgreSQL database)"
"$PY" manage.py migrate --noinput >"$STATE/migrate.log" 2>&1 || { tail -n 30 "$STATE/migrate.log" >&2; die "migrate failed"; }
if [ "${MEDIA_S3:-}" = "moto" ]; then
  "$PY" manage.py media_bucket_setup --create >"$STATE/media_bucket.log" 2>&1 || { cat "$STATE/media_bucket.log" >&2; die "media_bucket_setup failed"; }
fi
"$PY" manage.py check --deploy --fail-level ERROR >"$STATE/check.log" 2>&1 || { cat "$STATE/check.log" >&2; die "check --deploy failed"; }
"$PY" manage.py collectstatic --noinput >"$STATE/collectstatic.log" 2>&1 || { tail -n 20 "$STATE/collectstatic.log" >&2; die "collectstatic failed"; }

log "Stripe sandbox on $SANDBOX_URL (log: $STATE/stripe_sandbox.log)"
"$PY" -m stripe_sandbox --port "$SANDBOX_PORT" \
  --webhook "$SITE/payments/webhook/=whsec_sandbox_platform" \
  --connect-webhook "$SITE/payments/webhook/connect/=whsec_sandbox_connect" \
  >"$STATE/stripe_sandbox.log" 2>&1 &
PIDS+=($!)
wait_for_port "$SANDBOX_PORT" 30 || { tail -n 30 "$STATE/stripe_sandbox.log" >&2; die "the Stripe sandbox did not start"; }

log "seeding demo data"
"$PY" manage.py seed_demo >"$STATE/seed_demo.log" 2>&1 || { tail -n 30 "$STATE/seed_demo.log" >&2; die "seed_demo failed"; }
sed -n '/Log in with:/,$p' "$STATE/seed_demo.log"

log "Celery worker and beat (logs: $STATE/celery-worker.log, $STATE/celery-beat.log)"
"$BIN/celery" -A stubcollector worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" \
  --hostname "serve@%h" >"$STATE/celery-worker.log" 2>&1 &
PIDS+=($!)
echo "worker_pid=$!" >>"$STATE/serve.env"
"$BIN/celery" -A stubcollector beat --loglevel INFO --schedule "$STATE/celerybeat-schedule" \
  >"$STATE/celery-beat.log" 2>&1 &
PIDS+=($!)
echo "beat_pid=$!" >>"$STATE/serve.env"

log "gunicorn on $SITE (log: $STATE/gunicorn.log)"
"$BIN/gunicorn" -c gunicorn.conf.py stubcollector.wsgi >"$STATE/gunicorn.log" 2>&1 &
PIDS+=($!)
echo "gunicorn_pid=$!" >>"$STATE/serve.env"

for _ in $(seq 300); do
  if "$PY" - "$SITE/readyz" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
  sleep 0.2
done
log "serving on $SITE  (ready: $SITE/readyz, metrics: $SITE/metrics with the bearer token in $STATE/metrics_token)"
echo "ready" >"$STATE/ready"
# Wait for Ctrl-C, or for any of the services to die.
wait -n "${PIDS[@]}" || true
log "a service exited; stopping the rest"
