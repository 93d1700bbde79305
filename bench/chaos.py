"""A small chaos soak on `make serve HOSTS=2` (two app hosts behind nginx, S3 on moto).

    .venv/bin/python bench/chaos.py [--purchases 30] [--refund-every 3] [--minutes 10] [--keep]

What it covers, and nothing more: it starts scripts/serve.sh with HOSTS=2 on scratch ports; the
three demo buyers buy at once through the proxy (checkout, then the card confirmed at the
sandbox as Stripe.js would; every fourth payment is declined first and paid with a good card
after, as a buyer tries again); staff refund every `--refund-every`th order once it is paid here,
through the proxy's JSON route, alternately in full and in half, each refund asked twice with one
Idempotency-Key (and go on while the missed events are replayed at the end). Along the way it
injects three faults: host 1's page gunicorn is killed with SIGKILL (make serve starts it
again), Redis is killed and started again empty on its port (cache, rate limits, broker and
queued tasks lost), and host 2's Celery worker is killed with SIGKILL.

At the end it applies what was stored but not processed (replay_failed_webhooks) and what Stripe
sent that we never took (replay_stripe_events), waits for the orders to settle, and passes only
when: the reconciliation (reconcile_stripe) reports zero differences (so no payment, refund or
fee on one side only: a paid PaymentIntent whose order is not paid here is one), no listing has
two live orders (sold twice), every refund asked twice was made once (or answered 5xx), and no
buyer or staff request got a 5xx except while a fault was injected (or within 10 s after). It
prints what it did by kind and answer, the faults with their times, and the checks.

Not covered (the issue's full soak): disputes, 3-D Secure, the sandbox's own faults (5xx,
timeouts, lost answers, duplicated and reordered deliveries), PostgreSQL restarts, 1,000
purchases over 200 listings.
"""

import argparse
import http.cookiejar
import json
import os
import random
import re
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
BUYERS = ["buyer", "rosa_alvarez", "jamal_wright"]  # demo/management/commands/seed_demo.py
# A 5xx this soon after a fault's end still counts as that fault's (a host finishing its start).
FAULT_GRACE_SECONDS = 10
LIVE_STATUSES = ("paid", "shipped", "completed", "partially_refunded", "disputed", "dispute_lost")


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

    def request(self, url, data=None, headers=None, timeout=60):
        req = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        except OSError as error:  # the connection itself failed: counted like a 5xx
            return 599, repr(error)

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), "")

    def log_in(self, site, username, password) -> bool:
        _, page = self.request(f"{site}/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not token:
            return False
        form = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": token.group(1)}).encode()
        status, page = self.request(f"{site}/accounts/login/", form,
                                    {"Referer": f"{site}/accounts/login/"})
        return status == 200 and "Log out" in page


class Soak:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.answers: list[tuple[float, str, int]] = []  # (time, what, status) of every request to the site
        self.faults: list[tuple[str, float, float]] = []  # (kind, start, end)
        self.counts: Counter = Counter()
        self.paid_orders: list[tuple[int, int]] = []  # (order id, amount) for the refunds
        self.purchases_done = 0
        self.refunds_wrong = 0
        self.buying_over = threading.Event()  # the buyers are done: no fault after this
        self.stop = threading.Event()  # the staff are done

    # -- the stack --------------------------------------------------------------------------------

    def start(self):
        self.state = Path(tempfile.mkdtemp(prefix="stubcollector-chaos."))
        port, sandbox_port = scratch_port(), scratch_port()
        self.site = f"http://127.0.0.1:{port}"
        env = {**os.environ, "HOSTS": "2", "MEDIA_S3": "moto", "SERVE_ADDRESS": f"127.0.0.1:{port}",
               "STRIPE_SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}", "SERVE_STATE_DIR": str(self.state),
               "GUNICORN_WORKERS": "2", "WEBHOOK_WORKERS": "1", "CELERY_CONCURRENCY": "1",
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

    def env(self) -> dict[str, str]:
        values = {}
        for line in (self.state / "serve.env").read_text().split():
            name, _, value = line.partition("=")
            values[name] = value
        return values

    def manage(self, *command) -> subprocess.CompletedProcess:
        """A manage.py command against the stack's database, Redis, sandbox and bucket."""
        e = self.env()
        env = {**os.environ, "DEBUG": "true",
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
                              text=True, timeout=600)

    def sql(self, query: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.env()['pg_port']}/stubcollector") as db:
            return db.execute(query).fetchall()

    def stop_stack(self):
        if getattr(self, "serve", None) is None:
            return
        if self.serve.poll() is None:
            self.serve.send_signal(signal.SIGTERM)
            self.serve.wait(120)
        if getattr(self, "redis", None) and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(30)
        if not self.args.keep:
            subprocess.run(["rm", "-rf", str(self.state)], check=False)

    # -- buyers and staff -------------------------------------------------------------------------

    def record(self, what, status):
        with self.lock:
            self.answers.append((time.monotonic(), what, status))
            self.counts[f"{what} {status}"] += 1

    def buyer(self, username):
        browser = Browser()
        if not browser.log_in(self.site, username, self.passwords["buyer"]):
            self.record("log-in", 0)
            return
        sandbox = f"http://127.0.0.1:{self.env()['sandbox_port']}"
        while not self.stop.is_set():
            with self.lock:
                if self.purchases_done >= self.args.purchases:
                    return
            status, body = browser.request(f"{self.site}/api/listings/?page_size=100")
            self.record("browse", status)
            if status != 200:
                time.sleep(0.5)
                continue
            candidates = [item["id"] for item in json.loads(body)["results"] if item["purchasable"]]
            if not candidates:
                self.counts["nothing left to buy"] += 1
                return
            listing_id = random.choice(candidates)
            checkout = json.dumps({"listing_id": listing_id, "shipping_name": "Ada Lovelace",
                                   "shipping_line1": "12 Analytical Row", "shipping_city": "Springfield",
                                   "shipping_state": "IL", "shipping_postal_code": "62701",
                                   "shipping_country": "US"}).encode()
            status, body = browser.request(f"{self.site}/payments/create-payment-intent/", checkout, {
                "Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": browser.cookie("csrftoken"), "Referer": f"{self.site}/checkout/{listing_id}/"})
            self.record("checkout", status)
            if status != 200:
                time.sleep(1 if status == 429 else 0.2)
                continue
            answer = json.loads(body)
            intent = answer["client_secret"].split("_secret_")[0]
            auth = {"Authorization": f"Bearer {SANDBOX_KEY}", "Stripe-Account": answer["stripe_account"]}
            with self.lock:
                self.purchases_done += 1
                decline_first = self.purchases_done % 4 == 0
            confirm = f"{sandbox}/v1/payment_intents/{intent}/confirm"
            if decline_first:
                card = urllib.parse.urlencode({"payment_method": "pm_card_chargeDeclined"}).encode()
                status, _ = browser.request(confirm, card, auth)
                self.counts[f"declined first ({status})"] += 1
            card = urllib.parse.urlencode({"payment_method": "pm_card_visa"}).encode()
            status, body = browser.request(confirm, card, auth)
            paid = status == 200 and json.loads(body).get("status") == "succeeded"
            self.counts["card payments succeeded" if paid else f"card payments refused ({status})"] += 1
            if paid:
                with self.lock:
                    self.paid_orders.append((answer["order_id"], int(answer.get("amount") or 0)))

    def staff(self):
        browser = Browser()
        if not browser.log_in(self.site, "staff", self.passwords["staff"]):
            self.record("staff log-in", 0)
            return
        seen: set[int] = set()
        while not self.stop.is_set():
            # The buyers' orders that are paid here by now (their webhooks applied) and not yet
            # looked at; every refund_every-th of them is refunded, alternately in full and half.
            with self.lock:
                bought = [order_id for order_id, _ in self.paid_orders if order_id not in seen]
            ids = ", ".join(str(int(i)) for i in bought)
            paid = self.sql("SELECT id, amount_cents FROM payments_order WHERE status = 'paid'"
                            f" AND id IN ({ids}) ORDER BY id") if bought else []
            if not paid:
                time.sleep(1)
                continue
            for order_id, amount in paid:
                seen.add(order_id)
                if len(seen) % self.args.refund_every:
                    continue
                self.refund(browser, order_id, amount, full=len(seen) % (2 * self.args.refund_every) == 0)

    def refund(self, browser, order_id, amount, *, full):
        """One refund asked twice with one Idempotency-Key (a double submit): one refund, or a 5xx."""
        body = json.dumps({"amount": amount if full else amount // 2, "reason": "requested_by_customer"})
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": browser.cookie("csrftoken"), "Idempotency-Key": uuid.uuid4().hex,
                   "Referer": f"{self.site}/payments/orders/{order_id}/"}
        url = f"{self.site}/payments/orders/{order_id}/refund/"
        first = browser.request(url, body.encode(), headers)
        again = browser.request(url, body.encode(), headers)
        self.record("refund", first[0])
        self.record("refund again", again[0])
        kind = "full" if full else "half"
        if first[0] >= 500 or again[0] >= 500:
            self.counts[f"{kind} refunds answered 5xx ({first[0]}, {again[0]})"] += 1
        elif first[0] in (201, 202) and again[0] in (200, 201, 202) and \
                json.loads(first[1]).get("id") == json.loads(again[1]).get("id"):
            self.counts[f"{kind} refunds (asked twice, made once)"] += 1
        else:
            self.counts[f"{kind} refunds NOT made once ({first[0]}, {again[0]})"] += 1
            self.refunds_wrong += 1

    # -- faults -----------------------------------------------------------------------------------

    def fault(self, kind, action):
        start = time.monotonic()
        print(f"chaos: fault: {kind}", flush=True)
        action()
        self.faults.append((kind, start, time.monotonic()))

    def kill_group(self, name, port=None):
        pid = int(self.env()[f"{name}_pid"])
        os.killpg(pid, signal.SIGKILL)
        # Back when make serve has started it again (a new pid, and for gunicorn its port answers).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            env = self.env()
            if env[f"{name}_pid"] != str(pid) and (port is None or _answers(int(env[port]))):
                return
            time.sleep(0.2)

    def restart_redis(self):
        e = self.env()
        os.kill(int(e["redis_pid"]), signal.SIGKILL)
        time.sleep(2)
        self.redis = subprocess.Popen(
            ["redis-server", "--port", e["redis_port"], "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--loglevel", "warning"],
            stdout=open(self.state / "redis-restarted.log", "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _answers(int(e["redis_port"])):
            time.sleep(0.1)
        time.sleep(3)  # the processes reconnect

    def chaos(self):
        plan = [
            (0.25, "host 1's page gunicorn killed (SIGKILL)", lambda: self.kill_group("web_1", "web_1_port")),
            (0.5, "Redis killed and started again empty", self.restart_redis),
            (0.75, "host 2's Celery worker killed (SIGKILL)", lambda: self.kill_group("worker_2")),
        ]
        for share, kind, action in plan:
            while not self.buying_over.is_set() and self.purchases_done < share * self.args.purchases:
                time.sleep(0.1)
            if self.buying_over.is_set():
                return
            self.fault(kind, action)

    # -- the run ----------------------------------------------------------------------------------

    def settle(self, deadline) -> list[tuple]:
        """Waits until the orders' and refunds' states have not moved for 10 s (or the deadline)."""
        last, stable_since = None, time.monotonic()
        while time.monotonic() - stable_since < 10 and time.monotonic() < deadline:
            now = self.sql(
                "SELECT 'order ' || status, count(*) FROM payments_order GROUP BY status UNION ALL "
                "SELECT 'refund ' || status, count(*) FROM payments_refund GROUP BY status ORDER BY 1")
            if now != last:
                last, stable_since = now, time.monotonic()
            time.sleep(1)
        return last or []

    def run(self) -> bool:
        since = datetime.now(UTC).replace(microsecond=0)
        began = time.monotonic()
        threads = [threading.Thread(target=self.buyer, args=(name,), daemon=True) for name in BUYERS]
        staff = threading.Thread(target=self.staff, daemon=True)
        chaos = threading.Thread(target=self.chaos, daemon=True)
        for thread in [*threads, staff, chaos]:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, began + self.args.minutes * 60 - time.monotonic()))
        soak_seconds = time.monotonic() - began
        self.buying_over.set()
        chaos.join(300)

        print("chaos: settling: replay_failed_webhooks, replay_stripe_events, then waiting for the orders "
              "(the staff refund what becomes paid meanwhile)", flush=True)
        day = since.date().isoformat()
        for command in (["replay_failed_webhooks"], ["replay_stripe_events", "--since", day]):
            replay = self.manage(*command)
            print(f"  {command[0]}:", (replay.stdout or replay.stderr).strip().splitlines()[-1:], flush=True)
        self.settle(began + soak_seconds + 600)
        self.stop.set()
        staff.join(300)
        last = self.settle(began + soak_seconds + 900)
        reconcile = self.manage("reconcile_stripe", "--json", "--since", since.date().isoformat())
        try:
            report = json.loads(reconcile.stdout)
        except ValueError:
            report = {"differences_count": None, "error": reconcile.stderr[-2000:]}

        sold_twice = self.sql(
            "SELECT listing_id, count(*) FROM payments_order WHERE status IN "
            f"({', '.join(repr(s) for s in LIVE_STATUSES)}) GROUP BY listing_id HAVING count(*) > 1")
        outside = [(when - began, what, status) for when, what, status in self.answers
                   if status >= 500 and not any(start <= when <= end + FAULT_GRACE_SECONDS
                                                for _, start, end in self.faults)]
        inside = sum(1 for _, _, status in self.answers if status >= 500) - len(outside)

        print(f"\nchaos: {self.purchases_done} checkouts in {soak_seconds:.0f}s "
              f"({self.purchases_done / soak_seconds:.2f} a second) by {len(BUYERS)} buyers at once")
        for kind, start, end in self.faults:
            print(f"  fault at {start - began:5.1f}s, {end - start:4.1f}s long: {kind}")
        for name, count in sorted(self.counts.items()):
            print(f"  {count:5d}  {name}")
        print(f"  at the end: {dict(last)}")
        differences = report.get("differences_count")
        detail = report.get("counts") or report.get("error") or ""
        checks = [
            (f"reconcile_stripe: {differences} differences {detail}".rstrip(),
             reconcile.returncode == 0 and differences == 0),
            (f"every refund asked twice was made once, or refused with a 5xx ({self.refunds_wrong} not)",
             not self.refunds_wrong),
            (f"no listing sold twice ({sold_twice or 'none'})", not sold_twice),
            (f"no 5xx outside a fault ({len(outside)}; {inside} during faults) {outside[:5]}", not outside),
            (f"every fault was injected ({len(self.faults)} of 3)", len(self.faults) == 3),
        ]
        for name, ok in checks:
            print(f"  {'ok  ' if ok else 'FAIL'} {name}")
        return all(ok for _, ok in checks)


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=30, help="checkouts to start in all (default 30)")
    parser.add_argument("--refund-every", type=int, default=3, help="refund every Nth paid order (default 3)")
    parser.add_argument("--minutes", type=float, default=10, help="stop buying after this long (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the state folder (logs) afterwards")
    args = parser.parse_args()
    # Stopped from outside (Ctrl-C, or a TERM; a shell's background job ignores SIGINT unless told
    # otherwise): leave through the finally below, which stops the stack.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: sys.exit(128 + signum))
    soak = Soak(args)
    ok = False
    try:
        soak.start()
        ok = soak.run()
    finally:
        soak.stop.set()
        soak.stop_stack()
    print("chaos: passed" if ok else "chaos: FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
