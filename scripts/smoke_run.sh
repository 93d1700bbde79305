#!/usr/bin/env bash
# CI's check that `make run` works from a fresh clone: runs scripts/run.sh on free ports with a
# scratch database and state folder (so a developer's var/ is left alone), waits until the site
# answers, checks the pages a newcomer sees, logs in as the demo buyer with the password
# seed_demo printed, then stops it all and checks that the site and the sandbox are gone.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT_DIR"

SCRATCH="$(mktemp -d /tmp/stubcollector-smoke.XXXXXX)"
SITE_PORT="$(free_port)"
SANDBOX_PORT="$(free_port)"
export RUN_ADDRESS="127.0.0.1:$SITE_PORT"
export RUN_STATE_DIR="$SCRATCH"
export DATABASE_URL="sqlite:///$SCRATCH/db.sqlite3"
export MEDIA_ROOT="$SCRATCH/media"
export STRIPE_SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT"
unset SITE_URL CACHE_URL STRIPE_SECRET_KEY STRIPE_PUBLISHABLE_KEY STRIPE_API_HOST STRIPE_JS_URL

RUN_PID=""
stop_run() {
  if [ -n "$RUN_PID" ]; then
    kill -TERM -- "-$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
    RUN_PID=""
  fi
}
finish() {
  local rc=$?
  stop_run
  if [ "$rc" != 0 ]; then
    echo "---- last lines of make run's output ----" >&2
    tail -n 40 "$SCRATCH/run.log" >&2 || true
  fi
  rm -rf "$SCRATCH"
}
trap finish EXIT

log "make run (scripts/run.sh) on $RUN_ADDRESS, sandbox on $SANDBOX_PORT, scratch $SCRATCH"
started=$(date +%s)
# Its own process group, so stopping it reaches runserver's reloader child and the sandbox.
setsid bash scripts/run.sh >"$SCRATCH/run.log" 2>&1 &
RUN_PID=$!

"$VENV_PY" - "$SITE_PORT" "$SANDBOX_PORT" "$SCRATCH" "$RUN_PID" <<'PY'
import http.cookiejar
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

site_port, sandbox_port, scratch, run_pid = sys.argv[1:5]
site = f"http://127.0.0.1:{site_port}"
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def get(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.geturl(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, url, error.read().decode(errors="replace")


deadline = time.monotonic() + 900  # first migrations on a loaded machine can take minutes
run_log = Path(scratch) / "run.log"
while True:
    try:
        os.kill(int(run_pid), 0)
    except ProcessLookupError:
        sys.exit("make run exited before the site answered")
    if time.monotonic() > deadline:
        sys.exit("the site did not answer /healthz within 15 minutes")
    # Only ask once run.sh has started the server: until then the port could be anyone's.
    if "==> serving on" not in run_log.read_text(errors="replace"):
        time.sleep(1)
        continue
    try:
        status, _, body = get(f"{site}/healthz")
        if status == 200:
            break
    except OSError:
        pass
    time.sleep(1)

checks = []
status, _, body = get(f"{site}/")
checks.append(("browse page shows seeded listings", status == 200 and body.count('class="card') >= 10))
status, _, _ = get(f"http://127.0.0.1:{sandbox_port}/v3/")
checks.append(("the Stripe sandbox serves Stripe.js", status == 200))

logins = next(Path(scratch).glob("demo-logins-*.txt"), None)
match = logins and re.search(r"^\s*buyer / (\S+)", logins.read_text(), re.MULTILINE)
checks.append(("seed_demo printed the buyer's password", bool(match)))
if match:
    status, _, page = get(f"{site}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": "buyer", "password": match.group(1), "csrfmiddlewaretoken": token}
    ).encode()
    status, final_url, page = get(f"{site}/accounts/login/", form, {"Referer": f"{site}/accounts/login/"})
    checks.append(("the demo buyer logs in", status == 200 and "Log out" in page))
    status, _, page = get(f"{site}/accounts/profile/")
    checks.append(("the buyer's profile page opens", status == 200 and "Become a seller" in page))

for name, ok in checks:
    print(f"  {'ok  ' if ok else 'FAIL'} {name}")
sys.exit(0 if all(ok for _, ok in checks) else 1)
PY
echo "  site answered $(($(date +%s) - started))s after make run started"

stop_run
for port in "$SITE_PORT" "$SANDBOX_PORT"; do
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || continue 2
    sleep 0.2
  done
  die "something still listens on port $port after make run was stopped"
done
echo "  stopping make run stopped the site and the sandbox"
