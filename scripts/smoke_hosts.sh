#!/usr/bin/env bash
# CI's check of `make serve HOSTS=2`: two app hosts (pages, webhooks and a Celery worker each, with
# their own working directory and TMPDIR), one beat, PostgreSQL, Redis, S3 on moto and nginx in
# front, all on scratch ports. scripts/smoke_hosts.py then keeps a session across the hosts,
# uploads a photo through one and reads it through the other, buys a stub through the proxy (its
# webhook through the webhook pool; host 1's cached copy of its page is retired), counts a rate
# limit over both hosts, and kills one host's page gunicorn with SIGKILL mid-request while the
# proxy keeps answering. Finally everything is stopped, and no process of the stack may be left,
# nor any of its ports answering.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"

STATE="$(mktemp -d /tmp/stubcollector-smoke-hosts.XXXXXX)"
SITE_PORT="$(free_port)"
SANDBOX_PORT="$(free_port $((SITE_PORT + 1)))"
export HOSTS=2 MEDIA_S3=moto
export SERVE_ADDRESS="127.0.0.1:$SITE_PORT"
export STRIPE_SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT"
export SERVE_STATE_DIR="$STATE"
# Small pools: the checks need two hosts, not throughput (CI shares two cores).
export GUNICORN_WORKERS=2 WEBHOOK_WORKERS=1 CELERY_CONCURRENCY=1
# Long enough that the checks after the kill run while host 1 is still down.
export SERVE_RESTART_SECONDS=5

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
    for f in serve.out host-1/gunicorn.log host-2/gunicorn.log host-1/celery-worker.log \
      host-2/celery-worker.log nginx/error.log stripe_sandbox.log; do
      echo "---- last lines of $f ----" >&2
      tail -n 25 "$STATE/$f" >&2 || true
    done
  fi
  rm -rf "$STATE"
}
trap finish EXIT

log "make serve HOSTS=2 (scripts/serve.sh): nginx on $SERVE_ADDRESS, sandbox on $SANDBOX_PORT, state $STATE"
started=$(date +%s)
bash scripts/serve.sh >"$STATE/serve.out" 2>&1 &
SERVE_PID=$!

for _ in $(seq 1800); do
  [ -f "$STATE/ready" ] && break
  kill -0 "$SERVE_PID" 2>/dev/null || die "make serve HOSTS=2 exited before it was ready"
  sleep 0.5
done
[ -f "$STATE/ready" ] || die "make serve HOSTS=2 was not ready within 15 minutes"
echo "  ready $(($(date +%s) - started))s after make serve started"

"$VENV_PY" scripts/smoke_hosts.py "http://127.0.0.1:$SITE_PORT" "$STATE"

# Every process make serve started, restarted ones included, as serve.env recorded them.
declare -a pids=() ports=()
while IFS='=' read -r name value; do
  case "$name" in
    *_pid) pids+=("$value") ;;
    *_port) ports+=("$value") ;;
  esac
done <"$STATE/serve.env"
pg_dir="$(sed -n 's/^pg_dir=//p' "$STATE/serve.env")"
stop_serve
for port in "$SITE_PORT" "$SANDBOX_PORT" "${ports[@]}"; do
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || continue 2
    sleep 0.2
  done
  die "port $port still answers after make serve stopped"
done
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null && die "process $pid survived make serve's stop"
done
# Any child of those (a gunicorn or Celery worker process, nginx's worker) names the state folder
# in its command line or runs in it.
left="$(for proc in /proc/[0-9]*; do
  { tr '\0' ' ' <"$proc/cmdline"; readlink "$proc/cwd"; } 2>/dev/null | grep -q "$STATE" && echo "${proc#/proc/}"
done || true)"
[ -z "$left" ] && [ ! -d "$pg_dir" ] || die "left behind: processes ${left:-none}, cluster $pg_dir"
echo "  ok   make serve HOSTS=2 stopped every process it started (${#pids[@]} recorded, restarts included)"
echo "  smoke_hosts took $(($(date +%s) - started))s"
