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
- new events at 200/s while wrk loads the browse page (-t2 -c16, a visitor with a session, i.e.
  page-cache misses, the heaviest case), each setup named in its row:
  - to the same gunicorn as the pages (scripts/bench.sh's BENCH_GUNICORN: by default the product's
    gunicorn.conf.py, access log and INFO logs included): one gunicorn for both, no webhook pool;
  - to a second gunicorn.conf.py gunicorn started here with its workers from the CPU count and no
    access log, WARNING logs;
  - to the webhook pool exactly as `make serve` runs it on each host (scripts/serve.sh start_hook,
    docs/deploy.md "A pool for the webhooks"): the product's gunicorn.conf.py, WEBHOOK_WORKERS
    workers, INFO logs and access log into a file, ordinary priority; the pages on a page pool as
    serve.sh starts it (gunicorn.conf.py, BENCH_WORKERS workers, logs into a file), once at the
    same priority and once at serve.sh's nice +PAGES_NICE (both read from scripts/serve.sh;
    BENCH_WEBHOOK_PAGES_NICE=5,10 adds rows for other values);
  - to the bench's own pool of 2 sync workers, no access log, WARNING logs, at nice -5 (needs
    root): not the product's configuration, the figure docs/deploy.md once gave;
  BENCH_WEBHOOK_ROUNDS (default 1) runs these setups that many times, interleaved;
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
import re
import socket
import statistics
import subprocess
import sys
import tempfile
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
    statuses: dict[int | str, int] = {}  # an HTTP status, or the error of a request that got none
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
            except OSError as error:
                # A keep-alive connection gunicorn closed as this request went out (its keepalive
                # ended, or the worker was recycled): Stripe delivers such an event again later.
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                status = type(error).__name__
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
        "bad": sum(count for status, count in statuses.items() if not _is_2xx(status)),
        "bad_kinds": ", ".join(f"{status} x{count}" for status, count in sorted(statuses.items(), key=str)
                               if not _is_2xx(status)),
    }


def _is_2xx(status: int | str) -> bool:
    return isinstance(status, int) and 200 <= status < 300


def serve_defaults() -> dict[str, int]:
    """What scripts/serve.sh gives the pools: WEBHOOK_WORKERS and PAGES_NICE, from its defaults
    (`${WEBHOOK_WORKERS:-2}`), so the bench measures what `make serve` runs."""
    text = (ROOT / "scripts" / "serve.sh").read_text()
    found = {}
    for name in ("WEBHOOK_WORKERS", "PAGES_NICE"):
        match = re.search(r"\$\{" + name + r":-(\d+)\}", text)
        if not match:
            raise SystemExit(f"scripts/serve.sh no longer sets a default {name}")
        found[name] = int(match.group(1))
    return found


def start_gunicorn(*args: str, nice: int = 0, product: bool = False, env: dict | None = None, log: str = ""):
    """Another gunicorn on a free port, with the bench's environment and a Celery broker.

    product=True starts it as scripts/serve.sh does: the project's gunicorn.conf.py with its own
    log settings (INFO, access log), stdout and stderr into a file in the bench's scratch folder,
    a Prometheus folder, and `nice -n` in front when nice > 0 (no root needed). Otherwise the
    logs are quietened (no access log, gunicorn's and Django's at WARNING, into the same kind of
    file), and a negative nice is applied only as root."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    broker = os.environ["CACHE_URL"].rsplit("/", 1)[0] + "/2"
    scratch = Path(os.environ.get("BENCH_SCRATCH") or tempfile.mkdtemp(prefix="webhook-load-"))
    environment = {**os.environ, "CELERY_BROKER_URL": broker, **(env or {})}
    prefix: list[str] = []
    preexec = None
    output = open(scratch / f"{log or 'gunicorn'}-{port}.log", "ab")  # noqa: SIM115 (the process keeps it)
    if product:
        for name in ("LOG_LEVEL", "GUNICORN_ACCESSLOG", "GUNICORN_LOGLEVEL"):
            environment.pop(name, None)  # serve.sh sets none of them
        metrics = scratch / f"prometheus-{port}"
        metrics.mkdir(parents=True, exist_ok=True)
        environment["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        environment["GUNICORN_BIND"] = f"127.0.0.1:{port}"
        if nice > 0:
            prefix = ["nice", "-n", str(nice)]
        command = [*prefix, str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                   *args, "stubcollector.wsgi"]
    else:
        environment.update({"GUNICORN_ACCESSLOG": "/dev/null", "GUNICORN_LOGLEVEL": "warning",
                            "LOG_LEVEL": "WARNING"})
        if nice and os.geteuid() == 0:
            preexec = lambda: os.nice(nice)  # noqa: E731
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), *args, "--bind", f"127.0.0.1:{port}",
                   "stubcollector.wsgi:application"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, preexec_fn=preexec,
                               stdout=output, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn {' '.join(command)} did not start")


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
    # The product's own gunicorn.conf.py with workers from the CPU count; the webhook pool and a
    # page pool as scripts/serve.sh starts them on each host, the pages at each priority compared;
    # and the bench's own sync pool ahead of the pages for the CPU (the figure before).
    serve = serve_defaults()
    pages_workers = os.environ.get("BENCH_WORKERS", "3")
    extra = os.environ.get("BENCH_WEBHOOK_PAGES_NICE", "")
    nices = sorted({0, serve["PAGES_NICE"], *(int(value) for value in extra.split(",") if value)})
    rounds = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", 1))
    processes = []
    try:
        production, production_url = start_gunicorn("--config", "gunicorn.conf.py")
        processes.append(production)
        hooks, hooks_url = start_gunicorn(product=True, log="webhooks",
                                          env={"GUNICORN_WORKERS": str(serve["WEBHOOK_WORKERS"])})
        processes.append(hooks)
        page_pools = {}
        for nice in nices:
            pages, pages_url = start_gunicorn(product=True, nice=nice, log=f"pages-nice{nice}",
                                              env={"GUNICORN_WORKERS": pages_workers})
            processes.append(pages)
            page_pools[nice] = pages_url
        pool, pool_url = start_gunicorn("--config", "bench/site/gunicorn.conf.py", "--workers", "2",
                                        "--log-level", "warning", nice=PRIORITY)
        processes.append(pool)
        serving = os.environ.get("BENCH_GUNICORN_LABEL", "the bench's gunicorn")
        pool_name = (f"webhook pool as make serve (gunicorn.conf.py, {serve['WEBHOOK_WORKERS']} "
                     f"gthread workers, INFO + access log, nice 0) beside a page pool "
                     f"({pages_workers} workers)")
        setups = [(f"the pages' gunicorn, no webhook pool ({serving})", base_url, base_url),
                  ("gunicorn.conf.py (gthread, workers from the CPU count, no access log, WARNING)",
                   production_url, production_url)]
        for nice in nices:
            note = {serve["PAGES_NICE"]: " (serve.sh)", 0: " (equal priority)"}.get(nice, "")
            setups.append((f"{pool_name} at nice +{nice}{note}", page_pools[nice], hooks_url))
        setups.append(("bench sync pool, 2 workers, no access log, WARNING, nice -5 (not the product's "
                       "configuration) beside the pages' gunicorn", base_url, pool_url))
        for pages_url in page_pools.values():  # fresh workers: load their code and connections first
            subprocess.run(["wrk", "-t2", "-c16", "-d3s", "-H", f"Cookie: {MISS_COOKIE}", pages_url + "/"],
                           stdout=subprocess.DEVNULL, check=False)
        for _round in range(rounds):
            for name, pages_url, webhooks_url in setups:
                send(webhooks_url, new_event, rate=RATE, seconds=1)  # warm up
                wrk = ["wrk", "-t2", "-c16", f"-d{SECONDS + 2}s", "-H", f"Cookie: {MISS_COOKIE}",
                       pages_url + "/"]
                load = subprocess.Popen(wrk, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                time.sleep(1)
                under_load = send(webhooks_url, new_event, rate=RATE, seconds=SECONDS)
                rps = [line.split()[-1] for line in load.communicate()[0].splitlines()
                       if line.startswith("Requests/sec")]
                under_load["browse"] = rps[0] if rps else "?"
                rows.append((f"new events at 200/s, browse under load: {name}", under_load))
    finally:
        for process in processes:
            process.terminate()
            process.wait()
    rows.append(("new events, 8 connections flat out", send(base_url, new_event, rate=None, seconds=SECONDS)))
    # Every 2xx answer is a stored delivery (the warm-up's included).
    stored = WebhookEventTrigger.objects.count() - stored_before
    answered = sum(result["sent"] - result["bad"] for name, result in rows if "reference" not in name)

    print(f"\nWebhooks through gunicorn ({serving}; a broker configured, answers only): "
          f"{SECONDS} s per row, {SENDERS} sender connections")
    print()
    print("| row | sent | events/s | p50 ms | p99 ms | non-2xx | browse req/s meanwhile |")
    print("|---|---|---|---|---|---|---|")
    for name, result in rows:
        bad = f"{result['bad']} ({result['bad_kinds']})" if result["bad"] else "0"
        print(f"| {name} | {result['sent']:,} | {result['rps']:,.0f} | {result['p50']:.1f} | "
              f"{result['p99']:.1f} | {bad} | {result.get('browse', '')} |")
    print("\nbrowse req/s meanwhile: wrk -t2 -c16 on / with a session cookie (page-cache misses), "
          "on the row's pages' gunicorn")
    print(f"deliveries stored: {stored:,} for {answered:,} answers after the warm-up "
          f"({'ok' if stored >= answered else 'MISSING DELIVERIES'})")


if __name__ == "__main__":
    main()
