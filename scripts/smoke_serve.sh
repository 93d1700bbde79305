#!/usr/bin/env bash
# CI's check of `make serve`: starts scripts/serve.sh on free ports, waits for /readyz, then buys
# a stub end to end through gunicorn: the demo buyer logs in, starts checkout (a PaymentIntent on
# the seller's sandbox account), pays it with a test card as Stripe.js would, the sandbox delivers
# payment_intent.succeeded to gunicorn, which answers at once, and the Celery worker marks the
# order paid. Then: /metrics counts it, the logs are JSON lines carrying request ids and no
# secret, Redis stopped makes /readyz 503 naming the cache and the broker, PostgreSQL stopped
# names the database. Finally everything is stopped and the ports are free again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"

STATE="$(mktemp -d /tmp/stubcollector-smoke-serve.XXXXXX)"
SITE_PORT="$(free_port)"
SANDBOX_PORT="$(free_port $((SITE_PORT + 1)))"
export SERVE_ADDRESS="127.0.0.1:$SITE_PORT"
export STRIPE_SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT"
export SERVE_STATE_DIR="$STATE"
export GUNICORN_WORKERS=2

SERVE_PID=""
stop_serve() {
  if [ -n "$SERVE_PID" ]; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
    SERVE_PID=""
  fi
}
finish() {
  local rc=$?
  stop_serve
  if [ "$rc" != 0 ]; then
    for f in serve.out gunicorn.log celery-worker.log stripe_sandbox.log; do
      echo "---- last lines of $f ----" >&2
      tail -n 25 "$STATE/$f" >&2 || true
    done
  fi
  rm -rf "$STATE"
}
trap finish EXIT

log "make serve (scripts/serve.sh) on $SERVE_ADDRESS, sandbox on $SANDBOX_PORT, state $STATE"
started=$(date +%s)
bash scripts/serve.sh >"$STATE/serve.out" 2>&1 &
SERVE_PID=$!

for _ in $(seq 1800); do
  [ -f "$STATE/ready" ] && break
  kill -0 "$SERVE_PID" 2>/dev/null || die "make serve exited before it was ready"
  sleep 0.5
done
[ -f "$STATE/ready" ] || die "make serve was not ready within 15 minutes"
echo "  ready $(($(date +%s) - started))s after make serve started"

"$VENV_PY" scripts/smoke_serve_buy.py "http://127.0.0.1:$SITE_PORT" "$STATE"

# PostgreSQL first: without Redis, Celery beat can exit at its next tick, and `make serve` then
# stops every service (gunicorn included) by design, which would leave nothing to ask.
source "$STATE/serve.env"
log "stopping PostgreSQL: /readyz must name the database"
_as_pg_user "$PG_BIN_DIR/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null
"$VENV_PY" scripts/smoke_serve_buy.py "http://127.0.0.1:$SITE_PORT" "$STATE" --expect-unready database
log "stopping Redis: /readyz must answer 503 naming the cache and the broker"
kill "$redis_pid"
"$VENV_PY" scripts/smoke_serve_buy.py "http://127.0.0.1:$SITE_PORT" "$STATE" --expect-unready cache,broker

stop_serve
for port in "$SITE_PORT" "$hook_1_port" "$SANDBOX_PORT" "$redis_port" "$pg_port"; do
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || continue 2
    sleep 0.2
  done
  die "port $port still answers after make serve stopped"
done
for pid in "$web_1_pid" "$hook_1_pid" "$worker_1_pid" "$beat_pid"; do
  kill -0 "$pid" 2>/dev/null && die "process $pid survived make serve's stop"
done
[ -d "$pg_dir" ] && die "the throwaway PostgreSQL cluster $pg_dir was not removed"
echo "  ok   make serve stopped gunicorn, Celery, the sandbox, Redis and PostgreSQL"
