"""Webhook answers through gunicorn: signed `payment_intent.succeeded` deliveries to
/payments/webhook/connect/, timed from the sender's side, alone and while browse is under load.

    python bench/webhook_load.py     # run by scripts/bench.sh (make bench), after the pages

It needs what scripts/bench.sh sets up: gunicorn on BENCH_BASE_URL with a Celery broker (the
bench's gunicorn.conf.py points its workers at the bench Redis, as production does), so an
answer is what it is in production: verify the signature, store the delivery, queue it, 200. The
queued deliveries are not processed here (no worker runs): the figures are the HTTP answer.

Rows (BENCH_WEBHOOK_SECONDS each, default 10):
- reference page at 200/s: the same sender on the bench's minimal page, to show what the
  sender and gunicorn add by themselves;
- new events at 200/s, alone: each delivery a new event id;
- duplicates at 200/s: one event delivered again and again (Stripe retries, replays);
- new events at 200/s while wrk loads the browse page (-t2 -c16 on `/`, a visitor with a session,
  i.e. page-cache misses, the heaviest case): to the same gunicorn as the pages (scripts/bench.sh's
  BENCH_GUNICORN: by default the product's gunicorn.conf.py as `make serve` runs it, access log
  and INFO logs included), to a second gunicorn.conf.py gunicorn started here with its workers
  from the CPU count and no access log, and to a gunicorn of its own for the webhook routes
  (2 workers, started here; docs/deploy.md "A pool for the webhooks"): sync workers busy with
  pages hold a delivery in the listen queue;
- new events, as fast as 8 connections go: the sustained rate.

The sender is open-loop: request i is due at start + i/rate, and its time is counted from when it
was due, so a slow answer delays the requests behind it in the figures too (no coordinated
omission). Every answer must be a 2xx and every delivery must be stored.
"""

import hashlib
import hmac
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECONDS = int(os.environ.get("BENCH_WEBHOOK_SECONDS", 10))
RATE = 200  # events/s, the goal in docs/performance.md
SENDERS = 8  # connections of the sender
PRIORITY = -5  # the webhook pool's nice value
RUN = f"{int(time.time()) % 100000}"
MISS_COOKIE = "sessionid=bench-no-such-session"


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.site.settings")
    import django

    django.setup()


def event_body(number: int, *, event_id: str | None = None) -> bytes:
    """A connected account's payment_intent.succeeded, in the shape of Stripe's fixtures."""
    created = int(time.time())
    intent = {
        "id": f"pi_bench{RUN}x{number}", "object": "payment_intent", "amount": 2500,
        "amount_received": 2500, "currency": "usd", "status": "succeeded", "livemode": False,
        "application_fee_amount": 250, "capture_method": "automatic", "created": created,
        "latest_charge": f"ch_bench{RUN}x{number}", "metadata": {"order_id": str(number)},
        "payment_method_types": ["card"],
    }
    event = {
        "id": event_id or f"evt_bench{RUN}x{number}", "object": "event", "api_version": "2024-06-20",
        "type": "payment_intent.succeeded", "account": "acct_benchwebhooks", "created": created,
        "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
        "data": {"object": intent},
    }
    return json.dumps(event, separators=(",", ":")).encode()


def signature(body: bytes, secret: str) -> str:
    timestamp = int(time.time())
    signed = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signed}"


def send(base_url: str, make_request, *, rate: float | None, seconds: float) -> dict:
    """Send make_request(i) -> (method, path, body, headers) from SENDERS connections."""
    parts = urlsplit(base_url)
    lock = threading.Lock()
    counter = iter(range(10**9))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter() + 0.2
    stop_at = start + seconds

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while True:
            with lock:
                i = next(counter)
            due = start + i / rate if rate else None
            if (due or time.perf_counter()) >= stop_at:
                break
            if due:
                time.sleep(max(0.0, due - time.perf_counter()))
            method, path, body, headers = make_request(i)
            began = due if due else time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                status = 0
            took = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "sent": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0,
        "bad": sum(count for status, count in statuses.items() if not 200 <= status < 300),
    }


def start_gunicorn(*args: str, nice: int = 0):
    """Another gunicorn on a free port, with the bench's environment and a Celery broker."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    broker = os.environ["CACHE_URL"].rsplit("/", 1)[0] + "/2"
    env = {**os.environ, "GUNICORN_ACCESSLOG": "/dev/null", "GUNICORN_LOGLEVEL": "warning",
           "CELERY_BROKER_URL": broker}
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), *args, "--bind", f"127.0.0.1:{port}",
               "stubcollector.wsgi:application"]
    process = subprocess.Popen(command, cwd=ROOT, env=env,
                               preexec_fn=(lambda: os.nice(nice)) if nice and os.geteuid() == 0 else None)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn {' '.join(args)} did not start")


def main():
    setup_django()
    from djstripe.models import WebhookEventTrigger

    from payments.services.webhooks import webhook_secret

    base_url = os.environ["BENCH_BASE_URL"]
    secret = webhook_secret("connect")
    path = "/payments/webhook/connect/"
    numbers = iter(range(10**9))
    number_lock = threading.Lock()

    def new_event(_i):
        with number_lock:
            number = next(numbers)
        body = event_body(number)
        headers = {"Content-Type": "application/json", "Stripe-Signature": signature(body, secret)}
        return "POST", path, body, headers

    duplicate = event_body(0, event_id=f"evt_bench{RUN}duplicate")

    def duplicate_event(_i):
        headers = {"Content-Type": "application/json", "Stripe-Signature": signature(duplicate, secret)}
        return "POST", path, duplicate, headers

    def reference(_i):
        return "GET", "/bench/fortunes/", None, {}

    stored_before = WebhookEventTrigger.objects.count()
    send(base_url, new_event, rate=RATE, seconds=1)  # warm up every worker's connection and code
    rows = [("reference page at 200/s", send(base_url, reference, rate=RATE, seconds=SECONDS)),
            ("new events at 200/s, alone", send(base_url, new_event, rate=RATE, seconds=SECONDS)),
            ("duplicates at 200/s, alone", send(base_url, duplicate_event, rate=RATE, seconds=SECONDS))]
    # The product's own gunicorn.conf.py (gthread workers and threads from the CPU count), and a
    # pool of two sync workers for the webhook routes alone, ahead of the pages for the CPU (as
    # its own cores or host would be; renice needs root).
    production, production_url = start_gunicorn("--config", "gunicorn.conf.py")
    pool, pool_url = start_gunicorn("--config", "bench/site/gunicorn.conf.py", "--workers", "2",
                                    "--log-level", "warning", nice=PRIORITY)
    serving = os.environ.get("BENCH_GUNICORN_LABEL", "the bench's gunicorn")
    setups = ((f"the pages' gunicorn ({serving})", base_url, base_url),
              ("gunicorn.conf.py (gthread, workers from the CPU count, no access log)",
               production_url, production_url),
              ("webhook pool beside the pages' gunicorn", base_url, pool_url))
    browse_rps = []
    try:
        for name, pages_url, webhooks_url in setups:
            send(webhooks_url, new_event, rate=RATE, seconds=1)  # warm up
            load = subprocess.Popen(
                ["wrk", "-t2", "-c16", f"-d{SECONDS + 2}s", "-H", f"Cookie: {MISS_COOKIE}", pages_url + "/"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(1)
            under_load = send(webhooks_url, new_event, rate=RATE, seconds=SECONDS)
            rows.append((f"new events at 200/s, browse under load: {name}", under_load))
            browse_rps += [f"{line.split()[-1]} ({name})" for line in load.communicate()[0].splitlines()
                           if line.startswith("Requests/sec")]
    finally:
        for process in (production, pool):
            process.terminate()
            process.wait()
    rows.append(("new events, 8 connections flat out", send(base_url, new_event, rate=None, seconds=SECONDS)))
    # Every 2xx answer is a stored delivery (the warm-up's included).
    stored = WebhookEventTrigger.objects.count() - stored_before
    answered = sum(result["sent"] - result["bad"] for name, result in rows if "reference" not in name)

    print(f"\nWebhooks through gunicorn ({serving}; a broker configured, answers only): "
          f"{SECONDS} s per row, {SENDERS} sender connections")
    print()
    print("| row | sent | events/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|---|")
    for name, result in rows:
        print(f"| {name} | {result['sent']:,} | {result['rps']:,.0f} | {result['p50']:.1f} | "
              f"{result['p99']:.1f} | {result['bad']} |")
    print(f"\nbrowse under load meanwhile, req/s (wrk -t2 -c16, page-cache misses): {', '.join(browse_rps)}")
    print(f"deliveries stored: {stored:,} for {answered:,} answers after the warm-up "
          f"({'ok' if stored >= answered else 'MISSING DELIVERIES'})")


if __name__ == "__main__":
    main()
