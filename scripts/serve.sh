#!/usr/bin/env bash
# `make serve`: the production-like stack on loopback, started and stopped together:
#   PostgreSQL 15 (throwaway cluster), Redis (cache, rate limits and Celery broker),
#   the offline Stripe sandbox, gunicorn (gunicorn.conf.py, DEBUG=false, JSON logs),
#   a Celery worker and Celery beat. Demo data is seeded. Ctrl-C (or SIGTERM) stops it all.
# MEDIA_S3=moto keeps uploads (photos, dispute evidence) on a local S3 server (moto_server, on a
#   free port) instead of the state folder's disk, as a multi-host deploy keeps them on S3.
#   With one host (the default) the pages' gunicorn answers on SERVE_ADDRESS and the sandbox
#   delivers Stripe's webhooks to a gunicorn of their own on a free port (docs/deploy.md, "A pool
#   for the webhooks"), as Stripe would to a webhook endpoint registered at that pool.
# HOSTS=N (default 1) runs N app hosts, as docs/deploy.md's layout: each host is a gunicorn for
#   pages, a gunicorn for the Stripe webhooks and a Celery worker, with a working directory,
#   TMPDIR, MEDIA_ROOT and metrics folder of its own (SERVE_STATE_DIR/host-<i>/), so nothing
#   passes between hosts through local disk; one Celery beat; all on the one PostgreSQL, Redis
#   and S3 (MEDIA_S3=moto is then the default: local disk cannot be shared). Debian's nginx
#   listens on SERVE_ADDRESS and spreads pages over the page pool and the webhook paths over the
#   webhook pool. A host's process (or beat) that dies is started again after
#   SERVE_RESTART_SECONDS (default 3), as systemd would; meanwhile the proxy sends its requests to
#   the other hosts.
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
HOSTS="${HOSTS:-1}"
[[ "$HOSTS" =~ ^[1-9]$ ]] || die "HOSTS=$HOSTS: the number of app hosts, 1 to 9"
if [ "$HOSTS" -gt 1 ]; then
  MEDIA_S3="${MEDIA_S3:-moto}"
  [ "$MEDIA_S3" = moto ] || die "HOSTS=$HOSTS needs shared file storage: MEDIA_S3=moto (the default with HOSTS>1)"
  ensure_nginx_installed
fi
RESTART_SECONDS="${SERVE_RESTART_SECONDS:-3}"
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
declare -A ROLE=()  # pid -> what it is ("web 1", "worker 2", "proxy"...), for the log and restarts
stopping=""
stop_all() {
  [ -n "$stopping" ] && return
  stopping=1
  # A TERM arriving now (a service died and the caller stops us too) would run `exit` and cut
  # this stop short, leaving gunicorn in its graceful shutdown after we are gone.
  trap '' INT TERM
  log "stopping gunicorn, Celery, the sandbox, nginx and moto (if started), Redis and PostgreSQL"
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
  ROLE[$!]="S3 (moto)"
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
# One per run; SERVE_SECRET_KEY gives it, for a tool that signs sessions for the stack
# (bench/chaos.py signs its buyers in that way).
export SECRET_KEY="${SERVE_SECRET_KEY:-serve-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
export ALLOWED_HOSTS="127.0.0.1,localhost"
export SITE_URL="$SITE"
export CACHE_URL="redis://127.0.0.1:$REDIS_PORT/0"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/1"
export STRIPE_SANDBOX_URL="$SANDBOX_URL"
export SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false SECURE_HSTS_SECONDS=0
export SERVE_MEDIA=true MEDIA_ROOT="$STATE/media"
export LOG_FORMAT=json
export PROMETHEUS_MULTIPROC_DIR="$STATE/prometheus"
GUNICORN_WORKERS="${GUNICORN_WORKERS:-3}"
unset STRIPE_SECRET_KEY STRIPE_PUBLISHABLE_KEY STRIPE_API_HOST STRIPE_JS_URL
# With DEBUG off, /metrics and /readyz's details need the bearer token: one per run, kept in
# the state folder (readable by this user only) for the smoke test and the operator.
export METRICS_TOKEN="metrics-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
(umask 077 && printf '%s\n' "$METRICS_TOKEN" >"$STATE/metrics_token")
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

# -- app hosts -----------------------------------------------------------------------------------
# What is one host's own: with HOSTS=1 the state folder itself (the layout make serve always had).
host_dir() {
  if [ "$HOSTS" = 1 ]; then echo "$STATE"; else echo "$STATE/host-$1"; fi
}

# as_host I COMMAND...: COMMAND in the background as host I: its own working directory, TMPDIR,
# MEDIA_ROOT (local disk is used only with HOSTS=1) and metrics folder, in a session of its own
# (setsid execs in place, so $! is the process and its group: a whole gunicorn can be killed).
as_host() {
  local dir
  dir="$(host_dir "$1")"
  shift
  (cd "$dir" && export TMPDIR="$dir/tmp" MEDIA_ROOT="$dir/media" PROMETHEUS_MULTIPROC_DIR="$dir/prometheus" \
     PYTHONPATH="$ROOT_DIR${PYTHONPATH:+:$PYTHONPATH}" && exec setsid "$@") &
}

# started ROLE NAME: files the process just put in the background ($!) under ROLE (for restarts
# and the log) and as NAME_pid in serve.env (the newest line wins when a restart adds another).
started() {
  PIDS+=("$!")
  ROLE[$!]="$1"
  echo "$2_pid=$!" >>"$STATE/serve.env"
}

# The ports: with one host the page pool answers on SERVE_ADDRESS itself and the webhook pool on a
# free loopback port; with more, nginx answers on SERVE_ADDRESS and each host's pools listen on
# free loopback ports of their own.
declare -a WEB_PORTS=() HOOK_PORTS=()
for i in $(seq "$HOSTS"); do mkdir -p "$(host_dir "$i")/tmp" "$(host_dir "$i")/prometheus"; done
if [ "$HOSTS" = 1 ]; then
  HOOK_PORTS[1]="$(free_port)"
  echo "hook_1_port=${HOOK_PORTS[1]}" >>"$STATE/serve.env"
else
  next_port="$(free_port)"
  for i in $(seq "$HOSTS"); do
    WEB_PORTS[i]="$next_port"
    HOOK_PORTS[i]="$(free_port $((next_port + 1)))"
    next_port="$(free_port $((HOOK_PORTS[i] + 1)))"
    echo "web_${i}_port=${WEB_PORTS[i]}" >>"$STATE/serve.env"
    echo "hook_${i}_port=${HOOK_PORTS[i]}" >>"$STATE/serve.env"
  done
fi

# With the webhook pool beside it, a host's page pool runs at a lower CPU priority (nice
# +PAGES_NICE, which needs no root; systemd's Nice= in docs/deploy.md): the two pools share the
# host's cores, and at equal priority a delivery's few milliseconds of CPU wait behind the page
# renders (bench/webhook_load.py reads these defaults and measures both arrangements;
# docs/deploy.md "A pool for the webhooks" has the figures).
PAGES_NICE="${PAGES_NICE:-10}"
[[ "$PAGES_NICE" =~ ^[0-9]+$ ]] && [ "$PAGES_NICE" -le 19 ] || die "PAGES_NICE=$PAGES_NICE: a nice value, 0 to 19"
start_web() {
  local i="$1" bind="$HOST_PORT"
  [ "$HOSTS" = 1 ] || bind="127.0.0.1:${WEB_PORTS[i]}"
  GUNICORN_BIND="$bind" GUNICORN_WORKERS="$GUNICORN_WORKERS" \
    as_host "$i" nice -n "$PAGES_NICE" "$BIN/gunicorn" -c "$ROOT_DIR/gunicorn.conf.py" stubcollector.wsgi \
    >>"$(host_dir "$i")/gunicorn.log" 2>&1
  started "web $i" "web_$i"
}

# The webhook pool (docs/deploy.md, "A pool for the webhooks"): the same code, gunicorn.conf.py
# and logs on a port of its own, WEBHOOK_WORKERS workers, at the ordinary priority.
start_hook() {
  local i="$1"
  GUNICORN_BIND="127.0.0.1:${HOOK_PORTS[i]}" GUNICORN_WORKERS="${WEBHOOK_WORKERS:-2}" \
    as_host "$i" "$BIN/gunicorn" -c "$ROOT_DIR/gunicorn.conf.py" stubcollector.wsgi \
    >>"$(host_dir "$i")/webhooks.log" 2>&1
  started "hook $i" "hook_$i"
}

start_worker() {
  local i="$1"
  as_host "$i" "$BIN/celery" -A stubcollector worker --loglevel INFO \
    --concurrency "${CELERY_CONCURRENCY:-2}" --hostname "host$i@%h" \
    >>"$(host_dir "$i")/celery-worker.log" 2>&1
  started "worker $i" "worker_$i"
}

start_beat() {
  "$BIN/celery" -A stubcollector beat --loglevel INFO --schedule "$STATE/celerybeat-schedule" \
    >>"$STATE/celery-beat.log" 2>&1 &
  started beat beat
}

start_proxy() {
  local conf="$STATE/nginx/nginx.conf" i web="" hook=""
  mkdir -p "$STATE/nginx"
  for i in $(seq "$HOSTS"); do
    web+="    server 127.0.0.1:${WEB_PORTS[i]} max_fails=3 fail_timeout=5s;"$'\n'
    hook+="    server 127.0.0.1:${HOOK_PORTS[i]} max_fails=3 fail_timeout=5s;"$'\n'
  done
  cat >"$conf" <<NGINX
# Written by scripts/serve.sh for HOSTS=$HOSTS; docs/deploy.md ("The layout") explains it.
worker_processes 1;
pid $STATE/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  log_format upstream '\$remote_addr "\$request" \$status \$body_bytes_sent '
                      'upstream=\$upstream_addr \$request_time rid=\$upstream_http_x_request_id';
  access_log $STATE/nginx/access.log upstream;
  # Bodies up to the largest upload (DATA_UPLOAD_MAX_MEMORY_SIZE) are kept in memory, and
  # answers are not spooled to files: the proxy writes nothing but its logs.
  client_max_body_size 8m;
  client_body_buffer_size 8m;
  proxy_max_temp_file_size 0;
  client_body_temp_path $STATE/nginx/tmp;
  proxy_temp_path $STATE/nginx/tmp;
  fastcgi_temp_path $STATE/nginx/tmp;
  uwsgi_temp_path $STATE/nginx/tmp;
  scgi_temp_path $STATE/nginx/tmp;

  # A host that refuses or drops three connections within 5 s is left out for 5 s; the request
  # goes to the next one (a GET even when it had reached the dead host; a page POST then answers
  # 502). One failure was enough before, and a single reset on the surviving host while the other
  # was down left no host at all: every request for 5 s answered "no live upstreams" (the chaos
  # soak saw 90 at once).
  # No idle connections are kept to the hosts: a request sent on one just as gunicorn closed it
  # (its keepalive ended, or the worker was recycled after max_requests) is reset, a 502 for a
  # POST, which nginx does not send again. A new loopback connection per request costs far less.
  upstream pages {
${web}  }
  upstream webhooks {
${hook}  }
  server {
    listen $HOST_PORT;
    proxy_set_header Host \$http_host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    proxy_connect_timeout 2s;
    # Which host answered: a loopback development aid (scripts/smoke_hosts.py reads it); a
    # production proxy would not tell visitors its hosts' addresses.
    add_header X-Upstream \$upstream_addr always;

    location / {
      proxy_pass http://pages;
    }
    # Stripe's deliveries, on a pool of their own. A delivery is idempotent (its event id is
    # stored once), so one cut off by a dying host may be sent on to the next host as well.
    location ~ ^/payments/webhook/(connect/)?\$ {
      proxy_next_upstream error timeout non_idempotent;
      proxy_pass http://webhooks;
    }
  }
}
NGINX
  (exec setsid "$NGINX_BIN" -p "$STATE/nginx" -c "$conf" -e "$STATE/nginx/error.log" -g 'daemon off;') \
    >"$STATE/nginx/nginx.out" 2>&1 &
  started proxy nginx
}

# A host's process that died (killed, crashed) is started again after RESTART_SECONDS when there
# are other hosts to stand in meanwhile, and so is beat (it can exit while Redis is away); anything
# else that dies stops make serve.
restart_if_host() {
  local pid="$1" role="${ROLE[$1]:-}"
  [ "$HOSTS" -gt 1 ] || return 1
  case "$role" in web\ * | hook\ * | worker\ * | beat) ;; *) return 1 ;; esac
  local -a alive=()
  local p
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || alive+=("$p"); done
  PIDS=("${alive[@]}")
  unset "ROLE[$pid]"
  log "$role (pid $pid) exited: starting it again in ${RESTART_SECONDS}s"
  sleep "$RESTART_SECONDS" &
  wait $!
  "start_${role% *}" "${role#* }"
  log "$role started again (pid $!)"
}

log "migrate (a fresh PostgreSQL database)"
"$PY" manage.py migrate --noinput >"$STATE/migrate.log" 2>&1 || { tail -n 30 "$STATE/migrate.log" >&2; die "migrate failed"; }
if [ "${MEDIA_S3:-}" = "moto" ]; then
  "$PY" manage.py media_bucket_setup --create >"$STATE/media_bucket.log" 2>&1 || { cat "$STATE/media_bucket.log" >&2; die "media_bucket_setup failed"; }
fi
"$PY" manage.py check --deploy --fail-level ERROR >"$STATE/check.log" 2>&1 || { cat "$STATE/check.log" >&2; die "check --deploy failed"; }
"$PY" manage.py collectstatic --noinput >"$STATE/collectstatic.log" 2>&1 || { tail -n 20 "$STATE/collectstatic.log" >&2; die "collectstatic failed"; }

# Stripe delivers to the endpoints' URLs: with HOSTS>1 the proxy's, which sends the webhook paths
# to the webhook pools; with one host the webhook pool's own port.
HOOK_SITE="$SITE"
[ "$HOSTS" = 1 ] && HOOK_SITE="http://127.0.0.1:${HOOK_PORTS[1]}"
log "Stripe sandbox on $SANDBOX_URL, delivering to $HOOK_SITE (log: $STATE/stripe_sandbox.log)"
"$PY" -m stripe_sandbox --port "$SANDBOX_PORT" \
  --webhook "$HOOK_SITE/payments/webhook/=whsec_sandbox_platform" \
  --connect-webhook "$HOOK_SITE/payments/webhook/connect/=whsec_sandbox_connect" \
  >"$STATE/stripe_sandbox.log" 2>&1 &
PIDS+=($!)
ROLE[$!]="the Stripe sandbox"
echo "sandbox_pid=$!" >>"$STATE/serve.env"
wait_for_port "$SANDBOX_PORT" 30 || { tail -n 30 "$STATE/stripe_sandbox.log" >&2; die "the Stripe sandbox did not start"; }

log "seeding demo data"
"$PY" manage.py seed_demo >"$STATE/seed_demo.log" 2>&1 || { tail -n 30 "$STATE/seed_demo.log" >&2; die "seed_demo failed"; }
sed -n '/Log in with:/,$p' "$STATE/seed_demo.log"

echo "hosts=$HOSTS" >>"$STATE/serve.env"
for i in $(seq "$HOSTS"); do
  if [ "$HOSTS" = 1 ]; then
    log "gunicorn on $SITE, webhooks on :${HOOK_PORTS[1]}, a Celery worker (logs: $STATE/gunicorn.log, webhooks.log, celery-worker.log)"
  else
    log "app host $i: pages on :${WEB_PORTS[i]}, webhooks on :${HOOK_PORTS[i]}, a Celery worker (logs: $(host_dir "$i")/)"
  fi
  start_hook "$i"
  start_worker "$i"
  start_web "$i"
done
log "Celery beat, one for the whole stack (log: $STATE/celery-beat.log)"
start_beat

# Ready when every gunicorn answers /readyz, then (HOSTS>1) the proxy in front of them.
ready_urls=("$SITE/readyz" "http://127.0.0.1:${HOOK_PORTS[1]}/readyz")
if [ "$HOSTS" -gt 1 ]; then
  ready_urls=()
  for i in $(seq "$HOSTS"); do
    ready_urls+=("http://127.0.0.1:${WEB_PORTS[i]}/readyz" "http://127.0.0.1:${HOOK_PORTS[i]}/readyz")
  done
fi
"$PY" - "${ready_urls[@]}" <<'PY' || true
import sys, time, urllib.request
deadline = time.monotonic() + 120
for url in sys.argv[1:]:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.2)
PY
if [ "$HOSTS" -gt 1 ]; then
  log "nginx on $SITE: pages over ${WEB_PORTS[*]}, /payments/webhook/ over ${HOOK_PORTS[*]} (log: $STATE/nginx/)"
  start_proxy
  wait_for_port "${HOST_PORT##*:}" 20 || { cat "$STATE/nginx/error.log" "$STATE/nginx/nginx.out" >&2; die "nginx did not start"; }
fi
log "serving on $SITE  (ready: $SITE/readyz, metrics: $SITE/metrics with the bearer token in $STATE/metrics_token)"
echo "ready" >"$STATE/ready"
# Wait for Ctrl-C, or for a service to die: a host's process is started again (HOSTS>1),
# anything else stops the rest. When several die at once (a whole host killed), bash may reap the
# others while one is restarted, and `wait -n` then no longer knows them ("no such job") and
# waits on the living only: so a process already gone is looked for first.
while true; do
  dead=""
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { dead="$pid"; break; }
  done
  [ -n "$dead" ] || wait -n -p dead "${PIDS[@]}" 2>/dev/null || true
  if [ -z "$dead" ]; then
    sleep 1
    continue
  fi
  restart_if_host "$dead" && continue
  break
done
log "${ROLE[$dead]:-a service} exited; stopping the rest"
