"""Webhook answer time, before and after processing moved from the request to a Celery worker.

    .venv/bin/python bench/webhooks.py [--rounds 40] [--database-url postgres://…]

Standalone: a scratch database (SQLite in a temporary folder unless --database-url names one;
tables made from the models, no migrations) and the in-process Stripe sandbox. Each round makes
a real PaymentIntent on a seller's sandbox account, pays it, and POSTs its signed
`payment_intent.succeeded` to /payments/webhook/connect/ through Django's test client, timing
the answer:

- before: processing in the request, as it was before the worker took it over (and as it still
  is with no broker: eager mode). dj-stripe records the event, re-fetches the PaymentIntent and
  what it points to from Stripe, our handler marks the order paid and the emails are sent, then
  200.
- after: a broker configured (kombu's in-memory transport stands in for Redis): the view verifies
  the signature, stores the delivery, queues it and answers. A real Celery worker then applies
  the queued deliveries; the script checks every order ended paid and reports that time too.

Against real Stripe each of dj-stripe's reads is a network round trip, so "before" grows by
those round trips while "after" does not. Figures: median and 90th percentile in milliseconds,
and SQL queries per answer.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database_url: str | None, scratch: Path):
    os.environ["DJANGO_SETTINGS_MODULE"] = "stubcollector.settings"
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    class NoMigrations(dict):  # like pytest-django's --no-migrations: tables from the models
        def __contains__(self, item):
            return True

        def __getitem__(self, item):
            return None

    settings.MIGRATION_MODULES = NoMigrations()
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        # A file, not shared-cache memory: the worker thread and this one take turns on it.
        settings.DATABASES["default"]["TEST"]["NAME"] = str(scratch / "test.sqlite3")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    setup_test_environment()
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    from stubcollector.celery import app

    # kombu's in-memory transport stands in for Redis (set before any connection is made; it is
    # only used once eager mode is switched off).
    app.conf.broker_url = "memory://localhost/"


def sandbox_start():
    import stripe

    from stripe_sandbox.app import Sandbox
    from stripe_sandbox.client import SandboxHTTPClient
    from stripe_sandbox.pytest_plugin import SANDBOX_API_KEY

    sandbox = Sandbox(public_url="http://stripe-sandbox.test", delivery_mode="manual")
    stripe.api_key = SANDBOX_API_KEY
    stripe.api_base = stripe.connect_api_base = sandbox.public_url
    stripe.default_http_client = SandboxHTTPClient(sandbox)
    return sandbox


def paid_event(sandbox) -> tuple[int, dict]:
    """A pending order whose PaymentIntent was just paid, and its payment_intent.succeeded."""
    from payments.tests.factories import sandbox_seller_onboarded
    from payments.tests.webhook_support import pay, sandbox_order

    order = sandbox_order(sandbox, seller=sandbox_seller_onboarded(sandbox))
    pay(order)
    event = next(e for e in sandbox.events(type="payment_intent.succeeded")
                 if e["data"]["object"]["id"] == order.payment_intent_id)
    return order.pk, event


def post(client, event) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from payments.tests.webhook_support import CONNECT_PATH, post_event

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = post_event(client, event, path=CONNECT_PATH)
        took = time.perf_counter() - started
    return took * 1000, response.status_code, len(queries)


def run(rounds: int, mode: str, sandbox) -> dict:
    from django.conf import settings
    from django.test import Client

    from payments.models import Order, OrderStatus
    from stubcollector.celery import app

    queued = mode == "after"
    settings.CELERY_TASK_ALWAYS_EAGER = not queued
    app.conf.task_always_eager = not queued
    client = Client()
    prepared = [paid_event(sandbox) for _ in range(rounds + 3)]
    times, statuses, queries = [], [], []
    for index, (_, event) in enumerate(prepared):
        took, status, count = post(client, event)
        if index >= 3:  # the first few warm caches up (templates, URL resolver, imports)
            times.append(took)
            statuses.append(status)
            queries.append(count)
    order_ids = [order_id for order_id, _ in prepared]
    result = {"mode": mode, "rounds": rounds, "median_ms": statistics.median(times),
              "p90_ms": statistics.quantiles(times, n=10)[-1], "queries": statistics.median(queries),
              "non_2xx": sum(1 for s in statuses if s >= 300)}
    if queued:
        from celery.contrib.testing.worker import start_worker

        paid_before = Order.objects.filter(pk__in=order_ids, status=OrderStatus.PAID).count()
        started = time.perf_counter()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
            while Order.objects.filter(pk__in=order_ids, status=OrderStatus.PAID).count() < len(order_ids):
                time.sleep(0.05)
        result["paid_when_answered"] = paid_before
        result["worker_ms_per_delivery"] = (time.perf_counter() - started) * 1000 / len(order_ids)
    paid = Order.objects.filter(pk__in=order_ids, status=OrderStatus.PAID).count()
    result["orders_paid"] = f"{paid}/{len(order_ids)}"
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a scratch folder")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as scratch:
        setup(args.database_url, Path(scratch))
        sandbox = sandbox_start()
        results = [run(args.rounds, "before", sandbox), run(args.rounds, "after", sandbox)]
        from django.db import connection

        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"webhook answer time, payment_intent.succeeded on the Connect endpoint, {args.rounds} rounds "
          f"({connection.vendor}, in-process sandbox)")
    print(f"{'':8} {'median':>9} {'p90':>9} {'queries':>8} {'non-2xx':>8}  orders paid")
    for r in results:
        print(f"{r['mode']:8} {r['median_ms']:7.1f}ms {r['p90_ms']:7.1f}ms {r['queries']:8.0f} "
              f"{r['non_2xx']:8}  {r['orders_paid']}")
    after = results[1]
    print(f"after: {after['paid_when_answered']} orders paid when answered; the worker then applied each "
          f"in {after['worker_ms_per_delivery']:.1f} ms on average")
    print(f"answer {results[0]['median_ms'] / after['median_ms']:.1f}x faster (median)")


if __name__ == "__main__":
    main()
