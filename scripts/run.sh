#!/usr/bin/env bash
# `make run`: migrate, start the offline Stripe sandbox (when no real Stripe is configured),
# seed the demo data once, and serve on http://127.0.0.1:8000. Ctrl-C stops everything.
# RUN_ADDRESS (default 127.0.0.1:8000) moves the site; STRIPE_SANDBOX_URL moves the sandbox.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"
PY="$VENV_PY"
HOST_PORT="${RUN_ADDRESS:-127.0.0.1:8000}"
SITE="http://$HOST_PORT"
export SITE_URL="${SITE_URL:-$SITE}"
# Sandbox state, logs and the seed stamp (scripts/smoke_run.sh points this at a scratch folder).
STATE="${RUN_STATE_DIR:-var}"
mkdir -p "$STATE"

# The few settings this script needs, read from Django's settings (env and .env included).
eval "$("$PY" - <<'PY'
import hashlib, os, shlex
from urllib.parse import urlsplit
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stubcollector.settings")
from django.conf import settings
sandbox = urlsplit(settings.STRIPE_SANDBOX_URL)
api = urlsplit(settings.STRIPE_API_HOST)
uses_sandbox = (api.hostname, api.port) == (sandbox.hostname, sandbox.port)
for name, value in {
    "USES_SANDBOX": "1" if uses_sandbox else "",
    "SANDBOX_PORT": str(sandbox.port or 12111),
    "SANDBOX_HOST": sandbox.hostname or "127.0.0.1",
    "WEBHOOK_SECRET": settings.STRIPE_WEBHOOK_SECRET,
    "CONNECT_WEBHOOK_SECRET": settings.STRIPE_CONNECT_WEBHOOK_SECRET,
    "SQLITE_PATH": str(settings.DATABASES["default"]["NAME"])
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else "",
    # Seeding is remembered per database, so pointing DATABASE_URL elsewhere seeds that one too.
    "DATABASE_ID": hashlib.sha1(repr(sorted(
        (k, str(v)) for k, v in settings.DATABASES["default"].items() if k in ("ENGINE", "NAME", "HOST", "PORT")
    )).encode()).hexdigest()[:12],
}.items():
    print(f"{name}={shlex.quote(value)}")
PY
)"

SANDBOX_PID=""
stop_sandbox() {
  if [ -n "$SANDBOX_PID" ]; then
    kill "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
    SANDBOX_PID=""
  fi
}
trap stop_sandbox EXIT
trap 'exit 130' INT TERM

# A new SQLite database starts from the schema snapshot (seconds, not the minutes dj-stripe's
# migration history takes); migrate below then adds whatever is newer than the snapshot.
if [ -n "$SQLITE_PATH" ]; then "$PY" scripts/sqlite_snapshot.py load "$SQLITE_PATH"; fi
if ! "$PY" manage.py migrate --check >/dev/null 2>&1; then
  if ! "$PY" manage.py showmigrations djstripe 2>/dev/null | grep -q '\[X\]'; then
    log "first run: applying migrations, this takes a minute or two…"
  else
    log "applying new migrations"
  fi
  "$PY" manage.py migrate --noinput
fi

if [ -n "$USES_SANDBOX" ]; then
  if (exec 3<>"/dev/tcp/$SANDBOX_HOST/$SANDBOX_PORT") 2>/dev/null; then
    die "port $SANDBOX_PORT is taken: is another Stripe sandbox (or make run) still running?"
  fi
  log "starting the offline Stripe sandbox on http://$SANDBOX_HOST:$SANDBOX_PORT (log: $STATE/stripe_sandbox.log)"
  "$PY" -m stripe_sandbox --port "$SANDBOX_PORT" --state "$STATE/stripe_sandbox.json" \
    --webhook "$SITE/payments/webhook/=$WEBHOOK_SECRET" \
    --connect-webhook "$SITE/payments/webhook/connect/=$CONNECT_WEBHOOK_SECRET" \
    >>"$STATE/stripe_sandbox.log" 2>&1 &
  SANDBOX_PID=$!
  if ! wait_for_port "$SANDBOX_PORT" 30; then
    tail -n 30 "$STATE/stripe_sandbox.log" >&2 || true
    die "the Stripe sandbox did not start"
  fi
else
  log "Stripe: real API (STRIPE_API_HOST is not the sandbox); not starting the sandbox"
fi

SEED_STAMP="$STATE/.demo-seeded-$DATABASE_ID"
LOGINS="$STATE/demo-logins-$DATABASE_ID.txt"
if [ ! -f "$SEED_STAMP" ]; then
  log "seeding demo data (once per database; delete $SEED_STAMP to seed again)"
  seed_args=()
  # The demo sellers are onboarded by filling the sandbox's onboarding form; real Stripe has
  # no such shortcut, so with real keys they stay un-onboarded (onboard them from /dashboard/).
  [ -n "$USES_SANDBOX" ] || seed_args+=(--skip-stripe)
  "$PY" manage.py seed_demo "${seed_args[@]}" | tee "$STATE/seed_demo.log"
  # Keep the printed logins so later runs can show them again.
  sed -n '/Log in with:/,$p' "$STATE/seed_demo.log" >"$LOGINS"
  touch "$SEED_STAMP"
elif [ -s "$LOGINS" ]; then
  log "demo logins (from the first run's seed_demo)"
  cat "$LOGINS"
fi

if (exec 3<>"/dev/tcp/${HOST_PORT%:*}/${HOST_PORT##*:}") 2>/dev/null; then
  die "$HOST_PORT is taken: is another make run still running? (RUN_ADDRESS=127.0.0.1:8001 make run uses another port)"
fi
log "serving on $SITE (Ctrl-C to stop)"
"$PY" manage.py runserver "$HOST_PORT"
