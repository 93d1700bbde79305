# Shared shell helpers for the Makefile, .ci/run and scripts/*.sh (source it; bash only).
# Everything here installs what it needs from Debian's packages when it is missing, so a
# fresh machine (CI runs as root, with no stdin) needs nothing done by hand.

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_PY="$ROOT_DIR/.venv/bin/python"
PG_BIN_DIR="${PG_BIN_DIR:-/usr/lib/postgresql/15/bin}"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A TCP port nobody listens on right now, searching upwards from $1 (default: a random port in
# 20000-31999, so that two runs at once on one machine, say two CI runs, do not pick the same one).
# Below Linux's ephemeral ports (32768 up): an outgoing connection holds one of those without
# listening on it, so it looks free here and the server that binds it then fails.
free_port() {
  local port="${1:-$((20000 + RANDOM % 12000))}"
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
  done
  echo "$port"
}

# Waits until something accepts connections on 127.0.0.1:$1 (at most $2 seconds).
wait_for_port() {
  local port="$1" seconds="${2:-30}" i
  for ((i = 0; i < seconds * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

_APT_UPDATED=""
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    die "missing system packages: $*. Install them with: sudo apt-get install -y $*"
  fi
  export DEBIAN_FRONTEND=noninteractive
  local apt_opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold -y -q)
  if [ -z "$_APT_UPDATED" ]; then
    log "apt-get update"
    apt-get "${apt_opts[@]}" update >/dev/null
    _APT_UPDATED=1
  fi
  log "apt-get install $*"
  apt-get "${apt_opts[@]}" install --no-install-recommends "$@" >/dev/null
}

ensure_postgres_installed() {
  [ -x "$PG_BIN_DIR/initdb" ] || apt_install postgresql-15 postgresql-client-15
  [ -x "$PG_BIN_DIR/initdb" ] || die "PostgreSQL 15 not found in $PG_BIN_DIR"
}

ensure_redis_installed() {
  command -v redis-server >/dev/null || apt_install redis-server
}

# The local proxy of `make serve HOSTS=2` (scripts/serve.sh), from Debian's package. serve.sh runs
# the binary with a config of its own on loopback; the package's own service (port 80, started by
# the install only where services may start, not in a container) plays no part.
NGINX_BIN="${NGINX_BIN:-/usr/sbin/nginx}"
ensure_nginx_installed() {
  [ -x "$NGINX_BIN" ] || apt_install nginx
  [ -x "$NGINX_BIN" ] || die "nginx not found at $NGINX_BIN"
}

ensure_chromium_installed() {
  local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [ -x "$chromium" ] || apt_install chromium fonts-liberation
  [ -x "$chromium" ] || die "Chromium not found at $chromium"
}

# Runs a command as the owner of the throwaway PostgreSQL cluster: initdb refuses root.
_as_pg_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Starts a throwaway PostgreSQL 15 cluster on a free loopback port (trust auth, no fsync:
# it lives for one test run). Sets PG_PORT, PG_DIR and exports DATABASE_URL.
pg_start() {
  ensure_postgres_installed
  PG_DIR="$(mktemp -d /tmp/stubcollector-pg.XXXXXX)"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    chown postgres: "$PG_DIR"
  fi
  PG_PORT="$(free_port "${PG_PORT_START:-}")"
  log "PostgreSQL 15: throwaway cluster on 127.0.0.1:$PG_PORT ($PG_DIR)"
  _as_pg_user "$PG_BIN_DIR/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  _as_pg_user "$PG_BIN_DIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
  _as_pg_user "$PG_BIN_DIR/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres stubcollector
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/stubcollector"
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    _as_pg_user "$PG_BIN_DIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
  PG_DIR=""
}

# Starts redis-server on a free loopback port, no persistence. Exports CACHE_URL.
redis_start() {
  ensure_redis_installed
  REDIS_PORT="$(free_port "${REDIS_PORT_START:-}")"
  log "Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --loglevel warning >/tmp/stubcollector-redis-"$REDIS_PORT".log 2>&1 &
  REDIS_PID=$!
  wait_for_port "$REDIS_PORT" 20 || die "redis-server did not start"
  export CACHE_URL="redis://127.0.0.1:$REDIS_PORT/0"
}

redis_stop() {
  if [ -n "${REDIS_PID:-}" ]; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    rm -f /tmp/stubcollector-redis-"${REDIS_PORT:-}".log
  fi
  REDIS_PID=""
}

# pytest exits 5 when it collected nothing; for an optional suite that is not a failure.
pytest_allow_empty() {
  local rc=0
  "$ROOT_DIR/.venv/bin/pytest" "$@" || rc=$?
  if [ "$rc" = 5 ]; then
    echo "(no tests collected in: $*)"
    return 0
  fi
  return "$rc"
}
