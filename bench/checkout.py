"""Checkout benchmark: our own overhead in POST /payments/create-payment-intent/, and a race of
100 buyers for 50 listings on PostgreSQL.

    python bench/checkout.py        # run by scripts/bench.sh, after the page benchmark

It needs what scripts/bench.sh sets up: the bench database (PostgreSQL) and the Stripe sandbox
(STRIPE_SANDBOX_URL). Requests go through Django's whole stack in-process (the test Client), so
the time spent inside Stripe calls can be measured exactly around stripe-python's HTTP client:
overhead = request time - time in Stripe calls. Each buyer has its own client address, as
behind a proxy, so the per-IP rate limit counts buyers, not the benchmark.

1. Overhead: CHECKOUTS buyers each start the checkout of a different listing, one after the
   other; the table gives p50/p99/max of the total, of the Stripe part, and of the rest (our own
   overhead), and splits the rest further: time inside SQL queries, time in the work run after
   the commit within the request (`transaction.on_commit` callbacks), and of that the Celery
   tasks run eagerly in-process (no broker, as here; in production a worker runs them after
   the response). Plus the SQL queries per request.
2. Race: 100 buyers in 100 threads ask for 50 listings at once, two buyers per listing, served
   by at most RACE_WORKERS requests at a time (each with its own database connection). Exactly
   50 orders must exist afterwards, one per listing, and no answer may be a 5xx.
"""

import contextlib
import cProfile
import functools
import logging
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHECKOUTS = int(os.environ.get("BENCH_CHECKOUTS", 200))  # 200: p99 is the 3rd slowest, not the max
WARM_UP = 3  # first requests: imports, first connections; not counted
PROFILE = os.environ.get("BENCH_CHECKOUT_PROFILE", "")  # a path: cProfile the counted checkouts there
ROWS = ("whole request", "inside Stripe calls", "**our own overhead** (whole - Stripe)",
        "our overhead: in SQL (round trips included)", "our overhead: after-commit work in the request",
        "our overhead: eager Celery tasks (part of after-commit; a worker's job in production)",
        "**our own overhead without eager Celery tasks**",
        "our overhead: CPU time of the request's thread (its cost without waiting for the DB or a core)",
        "SQL queries per request")
RACE_BUYERS, RACE_LISTINGS = 100, 50
# Requests served at once: a site answers through a bounded number of workers, each with one
# database connection (the bench cluster allows 100 connections in all).
RACE_WORKERS = 32
RUN = f"{int(time.time()) % 100000}"  # fresh users per run: a database may be benchmarked twice
SHIPPING = {"shipping_name": "Bench Buyer", "shipping_line1": "1 Bench Street", "shipping_city": "Boston",
            "shipping_postal_code": "02134", "shipping_country": "US"}


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.site.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the race's 409s are expected


class StripeTimer:
    """Time spent inside stripe-python's HTTP calls, per thread."""

    def __init__(self):
        self.local = threading.local()

    def install(self):
        from stripe import _http_client

        original = _http_client.HTTPClient.request_with_retries
        timer = self

        def timed(client, *args, **kwargs):
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(client, *args, **kwargs)
            finally:
                timer.local.spent = getattr(timer.local, "spent", 0.0) + time.perf_counter() - started
                timer.local.cpu = getattr(timer.local, "cpu", 0.0) + time.thread_time() - cpu

        _http_client.HTTPClient.request_with_retries = timed

    def reset(self):
        self.local.spent = self.local.cpu = 0.0

    @property
    def spent(self) -> float:
        return getattr(self.local, "spent", 0.0)

    @property
    def cpu(self) -> float:
        """CPU time of this thread inside Stripe calls (the SDK's and the HTTP client's own work)."""
        return getattr(self.local, "cpu", 0.0)


class AfterCommitTimer:
    """Time spent, per thread, in `transaction.on_commit` callbacks and in eager Celery tasks,
    minus the time their own Stripe calls took (already in the Stripe part).

    Both run inside the request when there is no broker; the tasks are what a worker would run
    after the response in production, so the table shows them apart instead of hiding them.
    """

    def __init__(self, stripe: StripeTimer):
        self.local = threading.local()
        self.stripe = stripe

    def _add(self, name: str, started: float, in_stripe: float):
        seconds = time.perf_counter() - started - (self.stripe.spent - in_stripe)
        setattr(self.local, name, getattr(self.local, name, 0.0) + seconds)

    def install(self):
        from celery.app.task import Task
        from django.db import transaction

        timer = self
        original_on_commit, original_apply = transaction.on_commit, Task.apply

        def on_commit(func, *args, **kwargs):
            def timed():
                started, in_stripe = time.perf_counter(), timer.stripe.spent
                try:
                    return func()
                finally:
                    timer._add("after_commit", started, in_stripe)

            return original_on_commit(timed, *args, **kwargs)

        def apply(task, *args, **kwargs):
            started, in_stripe = time.perf_counter(), timer.stripe.spent
            try:
                return original_apply(task, *args, **kwargs)
            finally:
                timer._add("eager_tasks", started, in_stripe)

        transaction.on_commit = on_commit
        Task.apply = apply

    def reset(self):
        self.local.after_commit = self.local.eager_tasks = 0.0

    @property
    def after_commit(self) -> float:
        return getattr(self.local, "after_commit", 0.0)

    @property
    def eager_tasks(self) -> float:
        return getattr(self.local, "eager_tasks", 0.0)


def make_sellers_and_listings(count: int, tag: str):
    from django.contrib.auth import get_user_model

    from demo.sellers import connect_onboard_demo_sellers
    from marketplace.models import Listing, Stub

    User = get_user_model()
    sellers = [User.objects.create_user(username=f"bench_{tag}{RUN}_seller{n}", password=None)
               for n in range(5)]
    connect_onboard_demo_sellers(sellers=sellers, log=lambda line: None)
    sellers = [User.objects.get(pk=seller.pk) for seller in sellers]
    if not all(seller.can_accept_payments for seller in sellers):
        sys.exit("the sandbox did not onboard the bench sellers; is STRIPE_SANDBOX_URL's sandbox running?")
    listings = []
    for n in range(count):
        stub = Stub.objects.create(event_name=f"Bench {tag} {n}", venue="Bench Hall", city="Boston",
                                   event_date="2001-01-01", category="concert")
        listings.append(Listing.objects.create(seller=sellers[n % len(sellers)], stub=stub, price_cents=2500))
    return listings


def buyers(first: int, count: int):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    return [User.objects.create_user(username=f"bench_checkout{RUN}_buyer{n}", password=None)
            for n in range(first, first + count)]


@functools.cache
def shared_handler():
    """One request handler, with its middleware chain built once, for every buyer's client.

    A Django test Client builds its own handler, and the handler builds the middleware chain on
    its first request: with a new Client per buyer, every measured request paid for it, and
    WhiteNoiseMiddleware's __init__ scans every static file (~85 ms per request under load,
    most of the "our own overhead" this bench reported before). A gunicorn worker builds the
    chain once, so the bench does too.
    """
    from django.test.client import ClientHandler

    handler = ClientHandler(enforce_csrf_checks=False)  # as Client() builds it
    handler.load_middleware()
    return handler


def client_for(buyer, number: int):
    from django.test import Client

    client = Client(REMOTE_ADDR=f"10.{number // 250}.{number % 250}.1", HTTP_ACCEPT="application/json")
    client.handler = shared_handler()
    client.force_login(buyer)
    return client


def checkout(client, listing):
    return client.post("/payments/create-payment-intent/", {"listing_id": listing.pk, **SHIPPING},
                       content_type="application/json", secure=True)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def overhead(timer: StripeTimer, after: AfterCommitTimer):
    listings = make_sellers_and_listings(CHECKOUTS + WARM_UP, "overhead")
    people = buyers(0, CHECKOUTS + WARM_UP)
    from django.db import connection

    rows = {name: [] for name in ROWS}
    failures = 0
    profiler = cProfile.Profile() if PROFILE else None
    for number, (buyer, listing) in enumerate(zip(people, listings, strict=True)):
        client = client_for(buyer, number)
        timer.reset()
        after.reset()
        sql = []

        def timed_query(execute, *args, sql=sql):
            started = time.perf_counter()
            try:
                return execute(*args)
            finally:
                sql.append(time.perf_counter() - started)

        started, cpu = time.perf_counter(), time.thread_time()
        with connection.execute_wrapper(timed_query), profiling(profiler, number >= WARM_UP):
            response = checkout(client, listing)
        total, cpu = time.perf_counter() - started, time.thread_time() - cpu
        if response.status_code != 200:
            failures += 1
            print(f"  checkout {number}: {response.status_code} {response.content[:200]!r}", file=sys.stderr)
            continue
        if number < WARM_UP:  # imports, first connections
            continue
        ours = total - timer.spent
        parts = (total, timer.spent, ours, sum(sql), after.after_commit, after.eager_tasks,
                 ours - after.eager_tasks, cpu - timer.cpu)
        for name, seconds in zip(ROWS, parts, strict=False):
            rows[name].append(seconds * 1000)
        rows[ROWS[-1]].append(len(sql))
    print()
    print(f"Checkout: POST /payments/create-payment-intent/, {len(rows['whole request'])} buyers one after "
          "the other, in-process against the bench PostgreSQL and the sandbox over HTTP "
          "(our own overhead = whole request - inside Stripe calls)")
    print()
    print("| part | p50 | p99 | max |")
    print("|---|---|---|---|")
    for name, values in rows.items():
        if not values:
            continue
        unit, digits = ("", 0) if name == ROWS[-1] else (" ms", 1)
        cells = [statistics.median(values), percentile(values, 0.99), max(values)]
        print(f"| {name} | " + " | ".join(f"{value:.{digits}f}{unit}" for value in cells) + " |")
    print(f"\nfailed checkouts: {failures}")
    if profiler is not None:
        profiler.dump_stats(PROFILE)
        print(f"cProfile of the counted checkouts: {PROFILE} (python -m pstats {PROFILE})")


@contextlib.contextmanager
def profiling(profiler, wanted: bool):
    if profiler is None or not wanted:
        yield
        return
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()


def race():
    from django.db import connection

    from payments.models import Order

    listings = make_sellers_and_listings(RACE_LISTINGS, "race")
    people = buyers(1000, RACE_BUYERS)
    clients = [client_for(buyer, 1000 + n) for n, buyer in enumerate(people)]
    statuses = [None] * RACE_BUYERS
    start = threading.Barrier(RACE_BUYERS)
    workers = threading.BoundedSemaphore(RACE_WORKERS)

    def one(number):
        from django.db import connection as own

        try:
            start.wait()
            with workers:
                statuses[number] = checkout(clients[number], listings[number % RACE_LISTINGS]).status_code
        except Exception as error:  # noqa: BLE001 - counted as a failure below
            statuses[number] = repr(error)
        finally:
            own.close()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(RACE_BUYERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - started
    orders = Order.objects.filter(listing__in=listings)
    per_listing = orders.values("listing").distinct().count()
    answers = [str(status) for status in statuses]
    counts = {status: answers.count(status) for status in set(answers)}
    server_errors = sum(n for status, n in counts.items() if not status.isdigit() or status.startswith("5"))
    ok = orders.count() == RACE_LISTINGS and per_listing == RACE_LISTINGS and not server_errors
    print()
    print(f"Race on {connection.vendor}: {RACE_BUYERS} buyers, {RACE_LISTINGS} listings, all at once "
          f"through {RACE_WORKERS} workers ({took:.1f} s)")
    print()
    print("| orders | listings with an order | answers | 5xx or errors | verdict |")
    print("|---|---|---|---|---|")
    summary = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
    print(f"| {orders.count()} | {per_listing} | {summary} | {server_errors} | {'ok' if ok else 'FAILED'} |")
    return ok


def main():
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/checkout.py measures PostgreSQL (row locks); run it through scripts/bench.sh")
    timer = StripeTimer()
    timer.install()
    after = AfterCommitTimer(timer)
    after.install()
    overhead(timer, after)
    if not race():
        sys.exit(1)


if __name__ == "__main__":
    main()
