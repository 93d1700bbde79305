"""The chaos soak on `make serve HOSTS=2` (two app hosts behind nginx, S3 on moto).

    .venv/bin/python bench/chaos.py                    # the full soak: 1,000 purchases
    .venv/bin/python bench/chaos.py --purchases 100    # CI's short one (every fault kind still once)

It starts scripts/serve.sh with HOSTS=2 on scratch ports, then through the ORM (a manage.py
shell against the stack's database) adds `--buyers` buyer accounts, Support and Finance agents
and `--listings` listings of the demo sellers (the buyers get sessions made in the database: the
log-in form takes 10 a minute from one address); when fewer than a quarter of them are left on
sale it lists as many again (sellers restocking), so the buyers always compete for a pool of
that size. The buyers buy at once through the proxy until `--purchases` checkouts were made
(and on, until the last component fault below was injected under their load):
checkout, then the card confirmed at the sandbox as Stripe.js would. One in four is declined
first and paid with a good card after; one in ten uses a card that needs 3-D Secure,
completed at the sandbox as the browser's challenge page would; one in 50 is declined and left
(the hold lapses). Of the orders paid here, staff refund every `--refund-every`th through the
JSON route, alternately Support in part and Finance in full, each refund asked twice with one
Idempotency-Key; every `--dispute-every`th gets a dispute opened at the sandbox, in turn one to
win, one to lose and an inquiry: once the app has it, the seller writes their side on the order
and Support submits evidence on the admin's respond page, then the sandbox decides it.
A demo seller uploads stub photos through host 1 while this goes on.

Faults, each kind at least once and, for the sandbox's, as a share of the run:
- the sandbox's API: every `--fault-every`th checkout it is told to fail the next POST to the
  payment intents, refunds or disputes (in turn) with a 500, a timeout (connection closed
  unanswered), or a 500 after doing the work (the answer lost);
- the sandbox's deliveries (POST /_sandbox/deliveries/chaos): shares sent twice, out of order
  and late (`--duplicate`, `--reorder`, `--delay`);
- components, at fixed shares of the purchases: host 2's Celery worker SIGKILLed (make serve
  starts it again), the whole of host 1 (pages, webhooks and worker) SIGKILLed while the buyers'
  requests are in flight, Redis killed and started again empty (cache, rate limits, broker and
  queued tasks lost), and PostgreSQL stopped (`pg_ctl -m fast`: every connection cut, open
  transactions aborted) and started again after a few seconds; and once, after the demo seller's
  photos, every Celery worker stopped (SIGSTOP) while one more photo is uploaded, then
  SIGKILLed, so that photo's task is lost with the worker that had taken it.

At the end it turns the delivery chaos off, waits for the queues (Celery's and the sandbox's
deliveries) to drain, applies what was stored but not processed (replay_failed_webhooks) and
what Stripe sent that we never took (replay_stripe_events), waits for the orders to settle, and
passes only when: the reconciliation (reconcile_stripe) reports zero differences; no listing has
two live orders (sold twice); no order is still held past its hold's end, and no refund is still
pending once time passed at the sandbox (a refund waits at Stripe for the seller's balance; the
soak settles those there, at the end); every dispute ended here as the sandbox decided it;
every photo is readable through both hosts (one whose task a fault lost, once beat queued it
again); every refund asked twice was made once (or
refused); and no buyer or staff request got a 5xx unless a fault of what answered was injected
then (a host's answer while that host was down, any host's while Redis or PostgreSQL was down,
or the app's "payment provider did not answer" 502 after a sandbox 500). It prints what it did by kind and
answer, the faults by kind and time, and the checks.
"""

import argparse
import contextlib
import http.cookiejar
import io
import itertools
import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".venv" / "bin" / "python"
SANDBOX_KEY = "sk_test_sandbox0000000000000000000000000"
PASSWORD = "chaos-soak-password-1"  # the soak's own buyers and staff (a throwaway database)
# A demo seller left mid-onboarding (demo/management/commands/seed_demo.py): nobody buys her stubs.
PHOTO_SELLER = "chloe_martin"
PHOTO_REQUEUE_AFTER_SECONDS = 180  # the setting's default, which the soak's stack runs with
# A 5xx this soon after a fault's end still counts as that fault's (a host finishing its start).
FAULT_GRACE_SECONDS = 15
# The app's "our payment provider did not answer" 502 this soon after a sandbox 5xx was injected.
SANDBOX_FAULT_WINDOW_SECONDS = 120
LIVE_STATUSES = ("paid", "shipped", "completed", "partially_refunded", "disputed", "dispute_lost")
SANDBOX_FAULTS = ("Stripe API 5xx", "Stripe API timeout", "Stripe API answer lost after the work")
FAULT_PATHS = ("/v1/payment_intents", "/v1/refunds", "/v1/disputes")
DELIVERY_FAULTS = {"duplicated": "webhook delivered twice", "reordered": "webhook delivered out of order",
                   "delayed": "webhook delivered late"}
COMPONENT_FAULTS = ("host 2's Celery worker killed (SIGKILL)",
                    "app host 1 killed whole (SIGKILL: pages, webhooks, worker)",
                    "Redis killed and started again empty", "PostgreSQL stopped and started again",
                    "a photo's task lost (every Celery worker stopped, then killed)")
DISPUTE_OUTCOMES = ("won", "lost", "inquiry")


def scratch_port() -> int:
    """A loopback port free now, below the ephemeral range (scripts/lib.sh, free_port)."""
    while True:
        port = random.randint(20000, 31999)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class Browser:
    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.upstream = ""  # the host that answered the last request (nginx's X-Upstream)

    def request(self, url, data=None, headers=None, timeout=90, method=None):
        req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        self.upstream = ""
        try:
            with self.opener.open(req, timeout=timeout) as response:
                self.upstream = response.headers.get("X-Upstream", "")
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            self.upstream = error.headers.get("X-Upstream", "") if error.headers else ""
            return error.code, error.read().decode(errors="replace")
        except OSError as error:  # the connection itself failed: counted like a 5xx
            return 599, repr(error)

    def get_bytes(self, url, timeout=30):
        try:
            with self.opener.open(url, timeout=timeout) as response:
                return response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as error:
            return error.code, "", b""
        except OSError:
            return 599, "", b""

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), "")

    def log_in(self, site, username, password) -> bool:
        """The log-in form; every log-in here comes from one address, and the form takes 10 a
        minute from one (LOGIN_RATE_PER_IP): a 429, or a host restarting, is waited out."""
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            status, page = self.request(f"{site}/accounts/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if token:
                form = urllib.parse.urlencode({"username": username, "password": password,
                                               "csrfmiddlewaretoken": token.group(1)}).encode()
                status, page = self.request(f"{site}/accounts/login/", form,
                                            {"Referer": f"{site}/accounts/login/"})
                if status == 200 and "Log out" in page:
                    return True
            time.sleep(10 if status == 429 else 2)
        return False

    def use_session(self, site, session_key) -> bool:
        """Signed in with a session made for the user in the database (the soak's many buyers
        would wait minutes for the log-in form's per-address limit); a page then sets the
        CSRF cookie."""
        host = urllib.parse.urlsplit(site).hostname
        self.jar.set_cookie(http.cookiejar.Cookie(
            0, "sessionid", session_key, None, False, host, False, False, "/", True, False, None,
            False, None, None, {}))
        for _ in range(30):
            status, page = self.request(f"{site}/accounts/profile/")
            if status == 200:
                return "Log out" in page
            time.sleep(2)
        return False

    def form_post(self, page_url, fields):
        """The form on `page_url` sent with `fields` and the page's CSRF token, as a browser
        would; the page's own answer when it has no form to send."""
        status, page = self.request(page_url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not token:
            return status, page
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), **fields}, doseq=True)
        return self.request(page_url, form.encode(), {"Referer": page_url})

    def json_post(self, site, url, payload, referer, **headers):
        return self.request(url, json.dumps(payload).encode(), {
            "Content-Type": "application/json", "Accept": "application/json",
            "X-CSRFToken": self.cookie("csrftoken"), "Referer": f"{site}{referer}", **headers})


class Soak:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.answers: list[tuple[float, str, int, str, str]] = []  # (time, what, status, upstream, body)
        self.faults: list[tuple[str, float, float, str]] = []  # (kind, start, end, component)
        self.sandbox_faults: list[float] = []  # when each sandbox 5xx was injected
        self.counts: Counter = Counter()
        self.paid_orders: list[int] = []  # order ids the sandbox took a payment for
        self.purchases_done = 0
        self.refunds_wrong = 0
        self.disputes: dict[str, tuple[int, str]] = {}  # dispute id -> (order id, the status it must end in)
        # (listing id, photos it has after the upload, when the upload was answered)
        self.photos: list[tuple[int, int, float]] = []
        self.fault_kinds = itertools.cycle(SANDBOX_FAULTS)
        self.fault_paths = itertools.cycle(FAULT_PATHS)
        self.buying_over = threading.Event()  # the buyers are done: no fault after this
        self.chaos_done = threading.Event()  # every component fault was injected
        self.stop = threading.Event()  # the staff are done

    # -- the stack --------------------------------------------------------------------------------

    def start(self):
        self.state = Path(tempfile.mkdtemp(prefix="stubcollector-chaos."))
        port, sandbox_port = scratch_port(), scratch_port()
        self.site = f"http://127.0.0.1:{port}"
        self.sandbox = f"http://127.0.0.1:{sandbox_port}"
        # The stack's secret key, so that sessions made here for the buyers are the stack's.
        self.secret_key = f"chaos-{uuid.uuid4().hex}{uuid.uuid4().hex}"
        env = {**os.environ, "HOSTS": "2", "SERVE_SECRET_KEY": self.secret_key,
               "MEDIA_S3": "moto", "SERVE_ADDRESS": f"127.0.0.1:{port}",
               "STRIPE_SANDBOX_URL": self.sandbox, "SERVE_STATE_DIR": str(self.state),
               "GUNICORN_WORKERS": "2", "WEBHOOK_WORKERS": "2", "CELERY_CONCURRENCY": "2",
               "SERVE_RESTART_SECONDS": "3"}
        print(f"chaos: make serve HOSTS=2 on {self.site} (state {self.state})", flush=True)
        started = time.monotonic()
        self.serve = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=ROOT, env=env,
                                      stdout=open(self.state / "serve.out", "w"), stderr=subprocess.STDOUT)
        while not (self.state / "ready").exists():
            if self.serve.poll() is not None:
                log = (self.state / "serve.out").read_text()
                raise SystemExit(f"make serve exited before it was ready:\n{log}")
            if time.monotonic() - started > 900:
                raise SystemExit("make serve was not ready within 15 minutes")
            time.sleep(0.5)
        print(f"chaos: ready after {time.monotonic() - started:.0f}s", flush=True)
        self.passwords = dict(re.findall(r"^\s{2}(\S+) / (\S+)", (self.state / "seed_demo.log").read_text(),
                                         re.MULTILINE))
        e = self.env()
        self.hosts = {i: f"http://127.0.0.1:{e[f'web_{i}_port']}" for i in (1, 2)}
        began = time.monotonic()
        made = self.shell(SETUP.format(buyers=self.args.buyers, support=self.args.support_agents,
                                       listings=self.args.listings, password=PASSWORD))
        self.buyers, self.sessions = made["buyers"], made["sessions"]
        self.support, self.finance = made["support"], made["finance"]
        print(f"chaos: {len(self.buyers)} buyers, {len(self.support)} Support agents and Finance, "
              f"{made['listings']} listings of {len(made['sellers'])} sellers made in "
              f"{time.monotonic() - began:.0f}s", flush=True)
        self.counts["listings put on sale"] += made["listings"]
        self.sandbox_post("/_sandbox/deliveries/chaos", {
            "duplicate": self.args.duplicate, "reorder": self.args.reorder, "delay": self.args.delay,
            "reorder_seconds": 3, "delay_seconds": 20, "seed": self.args.seed})

    def env(self) -> dict[str, str]:
        values = {}
        for line in (self.state / "serve.env").read_text().split():
            name, _, value = line.partition("=")
            values[name] = value
        return values

    def manage(self, *command, timeout=900) -> subprocess.CompletedProcess:
        """A manage.py command against the stack's database, Redis, sandbox and bucket."""
        e = self.env()
        env = {**os.environ, "DEBUG": "true", "SECRET_KEY": self.secret_key,
               "DATABASE_URL": f"postgres://postgres@127.0.0.1:{e['pg_port']}/stubcollector",
               "CACHE_URL": f"redis://127.0.0.1:{e['redis_port']}/0",
               "CELERY_BROKER_URL": f"redis://127.0.0.1:{e['redis_port']}/1",
               "STRIPE_SANDBOX_URL": f"http://127.0.0.1:{e['sandbox_port']}",
               "MEDIA_S3_BUCKET": "stubcollector-media", "MEDIA_S3_REGION": "us-east-1",
               "MEDIA_S3_ENDPOINT_URL": f"http://127.0.0.1:{e['moto_port']}",
               "MEDIA_S3_ACCESS_KEY_ID": "moto", "MEDIA_S3_SECRET_ACCESS_KEY": "moto"}
        for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_API_HOST"):
            env.pop(name, None)
        return subprocess.run([str(PY), "manage.py", *command], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=timeout)

    def shell(self, code: str) -> dict:
        """Runs `code` in manage.py shell; it prints one JSON line, which is returned."""
        for _ in range(3):  # PostgreSQL or Redis may be restarting just then
            done = self.manage("shell", "-c", code)
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if done.returncode == 0 and lines:
                return json.loads(lines[-1])
            time.sleep(5)
        raise RuntimeError(f"manage.py shell failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")

    def sql(self, query: str) -> list[tuple]:
        import psycopg

        for attempt in range(30):  # PostgreSQL may be restarting (a fault of ours)
            try:
                with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.env()['pg_port']}/stubcollector",
                                     connect_timeout=5) as db:
                    return db.execute(query).fetchall()
            except psycopg.OperationalError:
                if attempt == 29:
                    raise
                time.sleep(1)
        return []

    def sandbox_post(self, path, params=None, account=None):
        headers = {"Authorization": f"Bearer {SANDBOX_KEY}"}
        if account:
            headers["Stripe-Account"] = account
        data = urllib.parse.urlencode(params or {}).encode()
        return Browser().request(f"{self.sandbox}{path}", data, headers, method="POST")

    def sandbox_get(self, path, account=None):
        headers = {"Authorization": f"Bearer {SANDBOX_KEY}"}
        if account:
            headers["Stripe-Account"] = account
        status, body = Browser().request(f"{self.sandbox}{path}", headers=headers, timeout=300)
        return json.loads(body) if status == 200 else {}

    def stop_stack(self):
        if getattr(self, "serve", None) is None:
            return
        if self.serve.poll() is None:
            self.serve.send_signal(signal.SIGTERM)
            try:
                self.serve.wait(120)
            except subprocess.TimeoutExpired:
                self.serve.kill()
        if getattr(self, "redis", None) and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(30)
        if not self.args.keep:
            subprocess.run(["rm", "-rf", str(self.state)], check=False)

    # -- buyers -----------------------------------------------------------------------------------

    def record(self, what, status, browser=None, body=""):
        upstream = browser.upstream if browser else ""
        with self.lock:
            kept = body[:300] if status >= 500 else ""
            self.answers.append((time.monotonic(), what, status, upstream, kept))
            self.counts[f"{what} {status}"] += 1

    def buyer(self, username):
        browser = Browser()
        if not browser.use_session(self.site, self.sessions[username]):
            self.counts["buyers who could not sign in"] += 1
            return
        again = None
        while not self.buying_over.is_set():
            # Past the count, the buyers go on until every component fault was injected under load.
            with self.lock:
                if self.purchases_done >= self.args.purchases and self.chaos_done.is_set():
                    return
            status, body = browser.request(f"{self.site}/api/listings/?page_size=100")
            self.record("browse", status, browser, body)
            if status != 200:
                time.sleep(0.5)
                continue
            candidates = [item["id"] for item in json.loads(body)["results"] if item["purchasable"]]
            if not candidates:
                self.counts["browsed and found nothing to buy"] += 1
                time.sleep(2)
                continue
            listing_id = random.choice(candidates)
            if again is not None:
                listing_id = again  # the checkout that failed: a buyer tries it again
            again = None
            status, body = browser.json_post(self.site, f"{self.site}/payments/create-payment-intent/", {
                "listing_id": listing_id, "shipping_name": "Ada Lovelace",
                "shipping_line1": "12 Analytical Row", "shipping_city": "Springfield",
                "shipping_state": "IL", "shipping_postal_code": "62701", "shipping_country": "US"},
                f"/checkout/{listing_id}/")
            self.record("checkout", status, browser, body)
            if status >= 500:
                # The order may have been made (its hold counts towards the buyer's limit): the
                # same checkout again hands it back.
                again = listing_id
            if status != 200:
                time.sleep(1 if status in (409, 429) else 0.2)
                continue
            with self.lock:
                self.purchases_done += 1
                number = self.purchases_done
            if number % self.args.fault_every == 0:
                self.sandbox_fault()
            self.pay(browser, json.loads(body), number)

    def pay(self, browser, answer, number):
        """The card step at the sandbox, as Stripe.js does it; a lost answer is looked up again."""
        intent = answer["client_secret"].split("_secret_")[0]
        account = answer["stripe_account"]
        if number % 50 == 13:
            status, _ = self.confirm(intent, account, "pm_card_chargeDeclined")
            self.counts["declined and left (the hold lapses)"] += 1
            return
        if number % 4 == 0:
            self.confirm(intent, account, "pm_card_chargeDeclined")
            self.counts["declined first, then paid with another card"] += 1
        three_d_secure = number % 10 == 5
        status, pi = self.confirm(intent, account,
                                  "pm_card_threeDSecure2Required" if three_d_secure else "pm_card_visa")
        if three_d_secure and pi.get("status") == "requires_action":
            # The challenge page's Complete button (/_sandbox/3ds/:token) does this.
            status, body = self.sandbox_post(f"/_sandbox/payment_intents/{intent}/authenticate",
                                             {"outcome": "complete"})
            pi = json.loads(body) if status == 200 else pi
            self.counts[f"3-D Secure {'completed' if pi.get('status') == 'succeeded' else 'FAILED'}"] += 1
        elif three_d_secure:
            self.counts[f"3-D Secure NOT asked for ({pi.get('status')})"] += 1
        paid = pi.get("status") == "succeeded"
        self.counts["card payments succeeded" if paid else f"card payments refused ({status})"] += 1
        if paid:
            with self.lock:
                self.paid_orders.append(answer["order_id"])

    def confirm(self, intent, account, payment_method) -> tuple[int, dict]:
        auth = {"Authorization": f"Bearer {SANDBOX_KEY}", "Stripe-Account": account}
        card = urllib.parse.urlencode({"payment_method": payment_method}).encode()
        for _ in range(4):
            url = f"{self.sandbox}/v1/payment_intents/{intent}/confirm"
            status, body = Browser().request(url, card, auth)
            if status < 500:
                return status, json.loads(body) if body.startswith("{") else {}
            # An injected fault took this call: read what Stripe did (the work may be done).
            self.counts["card confirmations that met a sandbox fault"] += 1
            pi = self.sandbox_get(f"/v1/payment_intents/{intent}", account)
            if pi.get("status") in ("succeeded", "requires_action", "processing"):
                return 200, pi
            if payment_method == "pm_card_chargeDeclined" and pi.get("last_payment_error"):
                return 402, pi
        return status, {}

    def sandbox_fault(self):
        kind, path = next(self.fault_kinds), next(self.fault_paths)
        params = {"path_prefix": path, "method": "POST", "status": 500}
        if kind == "Stripe API timeout":
            params["exception"] = "timeout"
        elif kind == "Stripe API answer lost after the work":
            params["after_processing"] = "true"
        status, _ = self.sandbox_post("/_sandbox/faults", params)
        now = time.monotonic()
        with self.lock:
            self.counts[f"fault: {kind}"] += 1
            self.counts[f"fault: {kind} on POST {path}"] += 1
            if kind == "Stripe API 5xx":
                self.sandbox_faults.append(now)

    # -- staff ------------------------------------------------------------------------------------

    def staff(self):
        support = []
        for name in self.support:
            browser = Browser()
            if browser.log_in(self.site, name, PASSWORD):
                support.append(browser)
        finance = Browser()
        if not support or not finance.log_in(self.site, self.finance, PASSWORD):
            self.counts["staff who could not log in"] += 1
            return
        self.support_browser = support[0]
        agents = itertools.cycle(support)
        seen: set[int] = set()
        number = 0
        while not self.stop.is_set():
            # The buyers' orders paid here by now (their webhooks applied) and not yet looked at.
            with self.lock:
                bought = [order_id for order_id in self.paid_orders if order_id not in seen]
            ids = ", ".join(str(int(i)) for i in bought)
            paid = self.sql("SELECT id, amount_cents FROM payments_order WHERE status = 'paid'"
                            f" AND id IN ({ids}) ORDER BY id") if bought else []
            if not paid:
                time.sleep(1)
                continue
            for order_id, amount in paid:
                seen.add(order_id)
                number += 1
                if number % self.args.refund_every == 0:
                    full = number % (2 * self.args.refund_every) == 0
                    self.refund(finance if full else next(agents), order_id, amount, full=full)
                elif number % self.args.dispute_every == 1:
                    self.dispute_queue.append(order_id)

    def refund(self, browser, order_id, amount, *, full):
        """One refund asked twice with one Idempotency-Key (a double submit): one refund, or a 5xx."""
        payload = {"amount": amount if full else max(1, amount // 3), "reason": "requested_by_customer"}
        key = uuid.uuid4().hex
        url = f"{self.site}/payments/orders/{order_id}/refund/"
        referer = f"/payments/orders/{order_id}/"
        first = browser.json_post(self.site, url, payload, referer, **{"Idempotency-Key": key})
        self.record("refund", first[0], browser, first[1])
        again = browser.json_post(self.site, url, payload, referer, **{"Idempotency-Key": key})
        self.record("refund again", again[0], browser, again[1])
        kind = "Finance full" if full else "Support partial"
        if first[0] >= 500 or again[0] >= 500:
            self.counts[f"{kind} refunds answered 5xx ({first[0]}, {again[0]})"] += 1
        elif first[0] == 429 and again[0] == 429:
            self.counts[f"{kind} refunds refused by the refund rate limit (429)"] += 1
        elif first[0] == 202 and again[0] in (200, 202) and "awaiting_approval" in first[1]:
            self.counts[f"{kind} refunds sent to Finance for approval (Support's limits)"] += 1
        elif first[0] in (201, 202) and again[0] in (200, 201, 202) and \
                json.loads(first[1]).get("id") == json.loads(again[1]).get("id"):
            self.counts[f"{kind} refunds (asked twice, made once)"] += 1
        else:
            self.counts[f"{kind} refunds NOT made once ({first[0]}, {again[0]})"] += 1
            self.refunds_wrong += 1

    # -- disputes ---------------------------------------------------------------------------------

    def dispute_worker(self):
        """Disputes opened at the sandbox, answered through the app, decided at the sandbox."""
        # Support's first agent, once the staff have logged in.
        while getattr(self, "support_browser", None) is None and not self.stop.is_set():
            time.sleep(1)
        support = getattr(self, "support_browser", None)
        if support is None:
            return
        sellers: dict[str, Browser] = {}
        outcomes = itertools.cycle(DISPUTE_OUTCOMES)
        while not (self.stop.is_set() and not self.dispute_queue):
            if not self.dispute_queue:
                time.sleep(1)
                continue
            order_id = self.dispute_queue.pop(0)
            try:
                self.one_dispute(order_id, next(outcomes), support, sellers)
            except Exception as error:  # noqa: BLE001 - counted and shown; the soak goes on
                self.counts[f"dispute failed in the soak: {type(error).__name__}: {error}"[:160]] += 1

    def one_dispute(self, order_id, outcome, support, sellers):
        rows = self.sql("SELECT p.charge_id, p.stripe_account_id, u.username FROM payments_payment p "
                        "JOIN payments_order o ON o.id = p.order_id "
                        "JOIN accounts_user u ON u.id = o.seller_id "
                        f"WHERE o.id = {int(order_id)} AND o.status = 'paid' AND p.charge_id <> ''")
        if not rows:
            self.counts["dispute not opened: the order was no longer paid"] += 1
            return
        charge, account, seller = rows[0]
        inquiry = outcome == "inquiry"
        status, body = self.sandbox_post(f"/_sandbox/charges/{charge}/dispute",
                                         {"reason": "product_not_received", "inquiry": str(inquiry).lower()})
        if status != 200:
            self.counts[f"dispute not opened at the sandbox ({status})"] += 1
            return
        dispute_id = json.loads(body)["id"]
        final = {"won": "won", "lost": "lost", "inquiry": "warning_closed"}[outcome]
        with self.lock:
            self.disputes[dispute_id] = (order_id, final)
        self.counts[f"disputes opened to be {outcome}"] += 1
        deadline = time.monotonic() + 300
        row = []
        while time.monotonic() < deadline and not row:
            row = self.sql(f"SELECT id FROM payments_dispute WHERE stripe_dispute_id = '{dispute_id}'")
            time.sleep(1)
        if not row:
            self.counts["disputes the app did not take within 5 minutes"] += 1
        else:
            # The seller's side, on their order page's form (the JSON route it posts to) ...
            if seller not in sellers:
                browser = Browser()
                if browser.log_in(self.site, seller, self.passwords.get(seller, "")):
                    sellers[seller] = browser
            if seller in sellers:
                status, body = sellers[seller].json_post(
                    self.site, f"{self.site}/payments/orders/{order_id}/dispute/",
                    {"note": "Posted with tracking the day after the sale.",
                     "tracking_number": "1Z999AA10123456784"},
                    f"/payments/orders/{order_id}/")
                self.record("seller's dispute note", status, sellers[seller], body)
            # ... then Support submits the evidence on the admin's respond page (confirmed).
            page_url = f"{self.site}/admin/disputes/dispute/{row[0][0]}/respond/"
            status, page = support.form_post(page_url, {
                "action": "submit", "confirmed": "1", "product_description": "A ticket stub, as listed.",
                "uncategorized_text": "The seller shipped with tracking; see the note."})
            self.record("Support submits dispute evidence", status, support, page)
            submitted = status == 200 and "Evidence submitted to the bank" in page
            self.counts["dispute evidence submitted by Support" if submitted
                        else f"dispute evidence NOT submitted ({status})"] += 1
        time.sleep(2)
        resolve = "warning_closed" if inquiry else outcome
        status, _ = self.sandbox_post(f"/_sandbox/disputes/{dispute_id}/resolve", {"outcome": resolve})
        self.counts[f"disputes decided at the sandbox: {resolve}" if status == 200
                    else f"dispute not decided at the sandbox ({status})"] += 1

    # -- photos -----------------------------------------------------------------------------------

    def photographer(self):
        """A seller uploads stub photos through host 1 (a worker processes them, on either host)."""
        seller = Browser()
        # Every demo seller has the one password seed_demo printed.
        password = self.passwords.get(PHOTO_SELLER) or next(
            (p for n, p in self.passwords.items() if n not in {"buyer", "staff"}), "")
        if not seller.log_in(self.hosts[1], PHOTO_SELLER, password):
            self.counts["photos: the seller could not log in on host 1"] += 1
            return
        mine = self.sql("SELECT l.id FROM marketplace_listing l JOIN accounts_user u ON u.id = l.seller_id "
                        f"WHERE u.username = '{PHOTO_SELLER}' ORDER BY l.id")
        for n, (listing_id,) in enumerate(mine[: self.args.photos]):
            self.upload_photo(seller, listing_id, n)
            time.sleep(5)
        if mine:  # a listing of hers not photographed above if she has one, else her last
            listing_id = mine[min(self.args.photos, len(mine) - 1)][0]
            self.fault(COMPONENT_FAULTS[4], lambda: self.upload_photo_task_lost(seller, listing_id), "")
        self.photo_browser = seller

    def upload_photo(self, seller, listing_id, n) -> bool:
        """One photo added on the listing's photo page through host 1; True once it answered."""
        url = f"{self.hosts[1]}/listings/{listing_id}/photos/"
        for _ in range(30):  # host 1 may be down just then (a fault of ours): wait for it
            status, page = seller.request(url)
            if status < 500:
                break
            time.sleep(2)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not token or 'enctype="multipart/form-data"' not in page:
            self.counts[f"photos: no room on listing {listing_id} ({status})"] += 1
            return False
        from PIL import Image

        before = len(self.photo_sources(page))
        picture = io.BytesIO()
        Image.new("RGB", (900, 600), (40 * n % 255, 90, 160)).save(picture, "JPEG", quality=85)
        boundary = uuid.uuid4().hex
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
                f'{token.group(1)}\r\n--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                f'filename="chaos-{n}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n')
        body = head.encode() + picture.getvalue() + f"\r\n--{boundary}--\r\n".encode()
        status, _ = seller.request(url, body, {
            "Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": url})
        self.record("photo upload (host 1)", status, seller)
        if status not in (200, 302):
            return False
        with self.lock:
            self.photos.append((listing_id, before + 1, time.monotonic()))
        return True

    def upload_photo_task_lost(self, seller, listing_id):
        """A photo whose task is lost as a SIGKILLed worker loses one: every Celery worker is
        stopped (SIGSTOP) while the upload queues its task, which a stopped worker's waiting fetch
        takes off the queue, and then killed; make serve starts them again. Beat's
        requeue-lost-photos must then process it (marketplace.photos.stub_photos_requeue_lost)."""
        workers = ("worker_1", "worker_2")
        stopped = [int(self.env()[f"{name}_pid"]) for name in workers]
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGSTOP)
        try:
            self.upload_photo(seller, listing_id, len(self.photos))
            time.sleep(1)
        finally:
            self.kill_groups(*workers)

    def photos_requeued(self) -> int:
        """How many times beat queued a lost photo's task again, by the workers' logs."""
        return sum(path.read_text(errors="replace").count("photo.requeued")
                   for path in self.state.rglob("celery-worker*.log"))

    @staticmethod
    def photo_sources(page) -> list[str]:
        return [src.replace("&amp;", "&") for src in re.findall(r'<img src="([^"]+)" alt="Photo \d+', page)
                if "stub-placeholder" not in src]

    def photos_readable(self) -> tuple[int, list[str]]:
        """Every uploaded photo, as each host's photo page links to it, reads back as an image."""
        seller = getattr(self, "photo_browser", None)
        problems, read = [], 0
        if seller is None:
            return 0, ["the seller never logged in"]
        for listing_id, expected, uploaded in self.photos:
            for host, site in self.hosts.items():
                sources = []
                # A task a fault lost is queued again by beat PHOTO_REQUEUE_AFTER_SECONDS after the
                # upload, on its next minute's tick (marketplace.photos.stub_photos_requeue_lost).
                deadline = max(time.monotonic() + 120, uploaded + PHOTO_REQUEUE_AFTER_SECONDS + 60 + 120)
                while time.monotonic() < deadline:
                    status, page = seller.request(f"{site}/listings/{listing_id}/photos/")
                    sources = self.photo_sources(page) if status == 200 else []
                    if len(sources) >= expected:
                        break
                    time.sleep(2)
                if len(sources) < expected:
                    problems.append(f"listing {listing_id}: host {host} shows {len(sources)} of {expected}")
                    continue
                for src in sources:
                    status, kind, data = Browser().get_bytes(src)
                    if status == 200 and kind.startswith("image/") and data:
                        read += 1
                    else:
                        problems.append(f"{src.split('?')[0]} through host {host}: {status}")
        return read, problems

    # -- component faults -------------------------------------------------------------------------

    def fault(self, kind, action, component):
        start = time.monotonic()
        print(f"chaos: fault: {kind}", flush=True)
        action()
        self.faults.append((kind, start, time.monotonic(), component))

    def kill_groups(self, *names):
        old = {name: int(self.env()[f"{name}_pid"]) for name in names}
        for pid in old.values():
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # Back when make serve has started each again (a new pid, and for gunicorn its port answers).
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            env = self.env()
            back = all(env[f"{name}_pid"] != str(pid) and
                       (f"{name}_port" not in env or _answers(int(env[f"{name}_port"])))
                       for name, pid in old.items())
            if back:
                return
            time.sleep(0.2)

    def restart_redis(self):
        e = self.env()
        pid = int(e["redis_pid"]) if not getattr(self, "redis", None) else self.redis.pid
        os.kill(pid, signal.SIGKILL)
        time.sleep(2)
        self.redis = subprocess.Popen(
            ["redis-server", "--port", e["redis_port"], "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--loglevel", "warning"],
            stdout=open(self.state / "redis-restarted.log", "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _answers(int(e["redis_port"])):
            time.sleep(0.1)
        time.sleep(3)  # the processes reconnect

    def restart_postgres(self):
        """pg_ctl stop -m fast (every connection cut, open transactions aborted), then start it
        again after a few seconds with the options it ran with (its postmaster.opts). Not
        -m immediate: this throwaway cluster runs with synchronous_commit off (scripts/lib.sh),
        so a crash loses commits it had acknowledged, which a production database does not; an
        order lost so, and its id used again, left a paid PaymentIntent with no order."""
        data = Path(self.env()["pg_dir"]) / "data"
        pg_ctl = Path(os.environ.get("PG_BIN_DIR", "/usr/lib/postgresql/15/bin")) / "pg_ctl"
        as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        options = shlex.split((data / "postmaster.opts").read_text())[1:]
        if "-D" in options:
            at = options.index("-D")
            del options[at:at + 2]
        subprocess.run([*as_owner, str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"],
                       check=True, capture_output=True)
        time.sleep(self.args.pg_down_seconds)
        subprocess.run([*as_owner, str(pg_ctl), "-D", str(data), "-l", str(data.parent / "server.log"),
                        "-w", "-t", "120", "-o", shlex.join(options), "start"],
                       check=True, capture_output=True)

    def chaos(self):
        plan = [
            (0.15, COMPONENT_FAULTS[0], lambda: self.kill_groups("worker_2"), ""),
            (0.35, COMPONENT_FAULTS[1], lambda: self.kill_groups("web_1", "hook_1", "worker_1"), "host 1"),
            (0.55, COMPONENT_FAULTS[2], self.restart_redis, "every host"),
            (0.75, COMPONENT_FAULTS[3], self.restart_postgres, "every host"),
        ]
        for share, kind, action, component in plan:
            while not self.buying_over.is_set() and self.purchases_done < share * self.args.purchases:
                time.sleep(0.1)
            if self.buying_over.is_set():
                return
            self.fault(kind, action, component)
        self.chaos_done.set()

    def restocker(self):
        """Lists as many stubs again when fewer than a quarter of the pool is left on sale."""
        while not self.buying_over.is_set():
            time.sleep(3)
            left = self.sql("SELECT count(*) FROM marketplace_listing WHERE status = 'active'")[0][0]
            if left < self.args.listings // 4 and not self.buying_over.is_set():
                try:
                    made = self.shell(SETUP.format(buyers=0, support=0, listings=self.args.listings,
                                                   password=PASSWORD))
                    self.counts["listings put on sale"] += made["listings"]
                    print(f"chaos: restocked {made['listings']} listings ({left} were left)", flush=True)
                except RuntimeError as error:
                    print(f"chaos: restocking failed: {error}", flush=True)

    # -- the run ----------------------------------------------------------------------------------

    def settle(self, deadline) -> list[tuple]:
        """Waits until the orders', refunds' and disputes' states stay put for 15 s (or the deadline)."""
        last, stable_since = None, time.monotonic()
        while time.monotonic() - stable_since < 15 and time.monotonic() < deadline:
            now = self.sql(
                "SELECT 'order ' || status, count(*) FROM payments_order GROUP BY status UNION ALL "
                "SELECT 'refund ' || status, count(*) FROM payments_refund GROUP BY status UNION ALL "
                "SELECT 'dispute ' || status, count(*) FROM payments_dispute GROUP BY status ORDER BY 1")
            if now != last:
                last, stable_since = now, time.monotonic()
            time.sleep(1)
        return last or []

    def drain(self, deadline):
        """Until Celery's queue in Redis is empty and the sandbox has no delivery left to send."""
        import redis

        queue = redis.Redis(port=int(self.env()["redis_port"]), db=1)
        while time.monotonic() < deadline:
            try:
                queued = queue.llen("celery")
            except redis.RedisError:
                queued = -1
            status, body = Browser().request(f"{self.sandbox}/_sandbox/deliveries/flush",
                                             urllib.parse.urlencode({"timeout": 20}).encode(), timeout=120)
            drained = status == 200 and json.loads(body).get("drained")
            if queued == 0 and drained:
                return True
            time.sleep(2)
        return False

    def send_again_unsent_refunds(self):
        """What Finance does on the refunds Stripe never received (a host or the database went
        down between our row and the call): the refund list's "Send again" action, which sends
        each with its first idempotency key (payments/admin/refunds.py)."""
        unsent = [row[0] for row in self.sql("SELECT id FROM payments_refund WHERE status = 'pending' "
                                             "AND stripe_refund_id = '' ORDER BY id")]
        if not unsent:
            return
        finance = Browser()
        status = 0
        if finance.log_in(self.site, self.finance, PASSWORD):
            status, _ = finance.form_post(f"{self.site}/admin/payments/refund/", {
                "action": "send_again", "index": "0", "_selected_action": unsent})
        self.counts[f"refunds Stripe never received, sent again by Finance ({status})"] += len(unsent)

    def settle_refunds(self):
        """Time passes at the sandbox for the refunds still pending there: a refund waits at
        Stripe until the seller's balance covers it (the sale's money is not available yet), and
        the sandbox settles one it is asked to by name as if the seller had added funds."""
        waiting = self.sql("SELECT stripe_refund_id FROM payments_refund WHERE status IN "
                           "('pending', 'requires_action') AND stripe_refund_id <> ''")
        for (refund_id,) in waiting:
            status, _ = self.sandbox_post(f"/_sandbox/refunds/{refund_id}/settle")
            self.counts[f"refunds pending at Stripe, settled as time passed ({status})"] += 1

    def excused(self, when, what, status, upstream, body) -> bool:
        """A 5xx is a fault's when what answered was what the fault hit (see the docstring)."""
        ports = {self.env().get(f"{name}_port") for name in ("web_1", "hook_1")}
        answered_by = {part.strip().rpartition(":")[2] for part in upstream.split(",") if part.strip()}
        for _, start, end, component in self.faults:
            if not start <= when <= end + FAULT_GRACE_SECONDS:
                continue
            if component == "every host":
                return True
            if component == "host 1" and (answered_by & ports or status == 599):
                return True
        if status == 502 and "payment_provider_error" in body:
            return any(0 <= when - at <= SANDBOX_FAULT_WINDOW_SECONDS for at in self.sandbox_faults)
        return False

    def run(self) -> bool:
        since = datetime.now(UTC).replace(microsecond=0)
        began = time.monotonic()
        self.dispute_queue: list[int] = []
        threads = [threading.Thread(target=self.buyer, args=(name,), daemon=True) for name in self.buyers]
        helpers = [threading.Thread(target=target, daemon=True)
                   for target in (self.staff, self.dispute_worker, self.photographer)]
        chaos = threading.Thread(target=self.chaos, daemon=True)
        restocker = threading.Thread(target=self.restocker, daemon=True)
        for thread in [*threads, *helpers, chaos, restocker]:
            thread.start()
        last_shown = 0
        for thread in threads:
            while thread.is_alive() and time.monotonic() < began + self.args.minutes * 60:
                thread.join(5)
                if self.purchases_done - last_shown >= max(10, self.args.purchases // 20):
                    last_shown = self.purchases_done
                    print(f"chaos: {self.purchases_done} purchases after {time.monotonic() - began:.0f}s",
                          flush=True)
        soak_seconds = time.monotonic() - began
        self.buying_over.set()
        chaos.join(600)
        restocker.join(120)

        print("chaos: settling: the delivery chaos off, the queues drained, replay_failed_webhooks, "
              "replay_stripe_events, then waiting for the orders (the staff refund and the disputes "
              "go on meanwhile)", flush=True)
        delivery_chaos = self.sandbox_get("/_sandbox/deliveries/chaos")
        self.sandbox_post("/_sandbox/deliveries/chaos", {})
        Browser().request(f"{self.sandbox}/_sandbox/faults", method="DELETE")
        drained = self.drain(time.monotonic() + 600)
        self.send_again_unsent_refunds()
        self.settle_refunds()
        day = since.date().isoformat()
        for command in (["replay_failed_webhooks"], ["replay_stripe_events", "--since", day]):
            replay = self.manage(*command)
            print(f"  {command[0]}:", (replay.stdout or replay.stderr).strip().splitlines()[-1:], flush=True)
        self.settle(time.monotonic() + 600)
        self.stop.set()
        for thread in helpers:
            thread.join(900)
        self.settle_refunds()
        drained = self.drain(time.monotonic() + 300) and drained
        last = self.settle(time.monotonic() + 600)
        reconcile = self.manage("reconcile_stripe", "--json", "--since", day)
        try:
            report = json.loads(reconcile.stdout)
        except ValueError:
            report = {"differences_count": None, "error": reconcile.stderr[-2000:]}
        photos_read, photo_problems = self.photos_readable()

        sold_twice = self.sql(
            "SELECT listing_id, count(*) FROM payments_order WHERE status IN "
            f"({', '.join(repr(s) for s in LIVE_STATUSES)}) GROUP BY listing_id HAVING count(*) > 1")
        held_too_long = self.sql("SELECT id, reserved_until FROM payments_order WHERE status = "
                                 "'pending_payment' AND reserved_until < now() - interval '3 minutes'")
        refunds_waiting = self.sql(
            "SELECT id, status FROM payments_refund WHERE status IN ('pending', 'requires_action')")
        ended = dict(self.sql("SELECT stripe_dispute_id, status FROM payments_dispute"))
        disputes_wrong = [(d, ended.get(d), final) for d, (_, final) in self.disputes.items()
                          if ended.get(d) != final]
        fivexx = [(when, what, status, upstream, body) for when, what, status, upstream, body in self.answers
                  if status >= 500]
        outside = [(round(when - began), what, status, upstream, body[:120])
                   for when, what, status, upstream, body in fivexx
                   if not self.excused(when, what, status, upstream, body)]

        faults = Counter()
        for kind, *_ in self.faults:
            faults[kind] += 1
        for kind in SANDBOX_FAULTS:
            faults[kind] = self.counts[f"fault: {kind}"]
        for kind, words in DELIVERY_FAULTS.items():
            faults[words] = (delivery_chaos.get("counts") or {}).get(kind, 0)
        checkouts = self.purchases_done
        print(f"\nchaos: {checkouts} purchases (checkouts) in {soak_seconds:.0f}s "
              f"({checkouts / soak_seconds:.2f} a second) by {len(self.buyers)} buyers at once, over a pool "
              f"of {self.args.listings} listings ({self.counts['listings put on sale']} put on sale in all); "
              f"{time.monotonic() - began:.0f}s with the settling")
        print("\n  faults injected, by kind:")
        for kind in (*COMPONENT_FAULTS, *SANDBOX_FAULTS, *DELIVERY_FAULTS.values()):
            print(f"  {faults[kind]:6d}  {kind}")
        for kind, start, end, _ in self.faults:
            print(f"          at {start - began:6.1f}s, {end - start:5.1f}s long: {kind}")
        print(f"  delivery chaos shares: duplicate {self.args.duplicate}, reorder {self.args.reorder}, "
              f"delay {self.args.delay}; a sandbox API fault every {self.args.fault_every} checkouts")
        print("\n  what was done, by kind and answer:")
        for name, count in sorted(self.counts.items()):
            if not name.startswith("fault: "):
                print(f"  {count:6d}  {name}")
        print(f"  at the end: {dict(last)}")
        print(f"  5xx answers: {len(fivexx)}, each during a fault of what answered but {len(outside)}")
        differences = report.get("differences_count")
        detail = report.get("counts") or report.get("error") or ""
        kinds = (*COMPONENT_FAULTS, *SANDBOX_FAULTS, *DELIVERY_FAULTS.values())
        every_kind = all(faults[kind] > 0 for kind in kinds)
        checks = [
            (f"the queues drained (Celery's, the sandbox's deliveries): {drained}", drained),
            (f"reconcile_stripe: {differences} differences {detail}".rstrip(),
             reconcile.returncode == 0 and differences == 0),
            (f"no listing sold twice ({sold_twice or 'none'})", not sold_twice),
            (f"no order held past its hold's end ({held_too_long[:5] or 'none'})", not held_too_long),
            (f"no refund still pending once time passed at the sandbox ({refunds_waiting[:5] or 'none'})",
             not refunds_waiting),
            (f"every dispute ended here as the sandbox decided ({len(self.disputes)}; wrong: "
             f"{disputes_wrong[:5] or 'none'})", self.disputes and not disputes_wrong),
            (f"every photo readable through both hosts ({len(self.photos)} photos, {photos_read} reads, "
             f"{self.photos_requeued()} queued again by beat; "
             f"{photo_problems[:3] or 'no problem'})", self.photos and not photo_problems),
            (f"every refund asked twice was made once, or refused (429, 5xx) ({self.refunds_wrong} not)",
             not self.refunds_wrong),
            (f"no 5xx but during a fault of what answered ({len(outside)}) {outside[:5]}", not outside),
            (f"every fault kind was injected ({sum(1 for k in faults if faults[k])} kinds)", every_kind),
        ]
        print()
        made = sum(n for name, n in self.counts.items() if "made once" in name)
        checks.insert(-1, (f"refunds were made ({made}) and disputes decided ({len(self.disputes)})",
                           made > 0 and len(self.disputes) > 0))
        signed_out = self.counts["buyers who could not sign in"]
        checks.insert(0, (f"every buyer signed in ({len(self.buyers) - signed_out} of {len(self.buyers)})",
                          not signed_out))
        for name, ok in checks:
            print(f"  {'ok  ' if ok else 'FAIL'} {name}")
        for difference in (report.get("differences") or [])[:10]:
            print(f"  difference: {difference}")
        return all(ok for _, ok in checks)


# Run in `manage.py shell -c` against the stack: the soak's buyers and staff, and listings of the
# demo sellers who can take payments. Prints one JSON line.
SETUP = """
import json, random
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from demo import catalogue
User = get_user_model()
password = make_password({password!r})
buyers = []
for i in range({buyers}):
    user, _ = User.objects.update_or_create(username=f"chaos_buyer_{{i:03d}}",
        defaults={{"email": f"chaos_buyer_{{i:03d}}@example.com", "password": password}})
    buyers.append(user.username)
Store = import_module(settings.SESSION_ENGINE).SessionStore
sessions = {{}}
for user in User.objects.filter(username__in=buyers):
    session = Store()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    sessions[user.username] = session.session_key
staff = {{"Support": [], "Finance": []}}
for group, count in (("Support", {support}), ("Finance", 1 if {support} else 0)):
    for i in range(count):
        user, _ = User.objects.update_or_create(username=f"chaos_{{group.lower()}}_{{i}}",
            defaults={{"email": f"chaos_{{group.lower()}}_{{i}}@example.com", "password": password,
                      "is_staff": True}})
        user.groups.add(Group.objects.get(name=group))
        staff[group].append(user.username)
sellers = [user for user in User.objects.order_by("id") if user.can_accept_payments]
made = {listings} and catalogue.bulk_create_listings(sellers=sellers, count={listings}, rng=random.Random())
print(json.dumps({{"buyers": buyers, "sessions": sessions, "support": staff["Support"],
                  "finance": (staff["Finance"] or [""])[0], "sellers": [s.username for s in sellers],
                  "listings": made}}))
"""


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=1000, help="checkouts to make in all (default 1000)")
    parser.add_argument("--listings", type=int, default=200,
                        help="the pool of listings the buyers compete for, restocked when low (default 200)")
    parser.add_argument("--buyers", type=int, default=12, help="buyers at once (default 12)")
    parser.add_argument("--support-agents", type=int, default=6,
                        help="Support agents taking turns (each has a daily refund limit; default 6)")
    parser.add_argument("--refund-every", type=int, default=5, help="refund every Nth paid order (default 5)")
    parser.add_argument("--dispute-every", type=int, default=8,
                        help="a dispute on every Nth paid order not refunded (default 8)")
    parser.add_argument("--fault-every", type=int, default=15,
                        help="a sandbox API fault (5xx, timeout, lost answer by turns) every Nth checkout")
    parser.add_argument("--duplicate", type=float, default=0.05, help="share of deliveries sent twice (0.05)")
    parser.add_argument("--reorder", type=float, default=0.05, help="share of deliveries held back (0.05)")
    parser.add_argument("--delay", type=float, default=0.02, help="share of deliveries sent 20 s late (0.02)")
    parser.add_argument("--photos", type=int, default=3, help="photos uploaded through host 1 (default 3)")
    parser.add_argument("--pg-down-seconds", type=float, default=5, help="how long PostgreSQL stays down (5)")
    parser.add_argument("--seed", type=int, default=21, help="the delivery chaos's draws (default 21)")
    parser.add_argument("--minutes", type=float, default=90, help="stop buying after this long (default 90)")
    parser.add_argument("--keep", action="store_true", help="keep the state folder (logs) afterwards")
    args = parser.parse_args()
    # Stopped from outside (Ctrl-C, or a TERM; a shell's background job ignores SIGINT unless told
    # otherwise): leave through the finally below, which stops the stack.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: sys.exit(128 + signum))
    soak = Soak(args)
    ok = False
    started = time.monotonic()
    try:
        soak.start()
        ok = soak.run()
    finally:
        soak.stop.set()
        soak.stop_stack()
    print(f"chaos: {'passed' if ok else 'FAILED'} after {time.monotonic() - started:.0f}s in all")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
