"""What a random listing page costs a logged-in buyer when the page cache misses, in-process.

    python bench/listing_miss.py        # run by scripts/bench.sh (BENCH_SCRIPTS=listing_miss)

wrk's rows in bench/pages.py say how the whole machine copes; on a shared, loaded machine their
figures move with the neighbours. This script asks the question underneath without the noise:
the CPU time (time.process_time) and SQL queries of one request for /listings/<id>/ as a
logged-in buyer (a real session, read as the site reads it), through Django's whole stack
in-process (the test Client), each request for a listing no request of this run has asked for,
so the page cache never has the page. The run starts from an empty cache (it clears the bench's
Redis) and always asks for the same listings, so two runs, before and after a change, do the same
work. Parts of a page filed under a seller's or a group's versions (the seller's reputation, the
sold-price history) may be current from an earlier request for another listing of the run: that
is so for real visitors too.

    BENCH_MISS_REQUESTS=300   listings asked for (distinct, at random among those on sale)
    BENCH_MISS_VISITOR=buyer  who asks: a logged-in buyer, or `anonymous` (no session cookie)
    BENCH_MISS_PROFILE=path   also cProfile the counted requests there and print the top items

It needs what scripts/bench.sh sets up: the bench database, seeded, and the cache (Redis).
"""

import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REQUESTS = int(os.environ.get("BENCH_MISS_REQUESTS", 300))
WARM_UP = 10  # first requests: imports, template loading, the first connection; not counted
PROFILE = os.environ.get("BENCH_MISS_PROFILE", "")
VISITOR = os.environ.get("BENCH_MISS_VISITOR", "buyer")


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.site.settings")
    import django

    django.setup()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def count_redis_round_trips() -> list[int]:
    """Counts the commands (or pipelines, or scripts) sent to Redis, each one round trip."""
    from redis.connection import AbstractConnection

    sent = [0]
    send = AbstractConnection.send_packed_command

    def counted(self, *args, **kwargs):
        sent[0] += 1
        return send(self, *args, **kwargs)

    AbstractConnection.send_packed_command = counted
    return sent


def main():
    if VISITOR not in ("buyer", "anonymous"):
        sys.exit(f"BENCH_MISS_VISITOR is buyer or anonymous, not {VISITOR}")
    setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.churn import session_cookie
    from marketplace.selectors import ListingFilters, listing_search

    cache.clear()
    rng = random.Random(11)
    ids = list(listing_search(filters=ListingFilters()).values_list("pk", flat=True))
    rng.shuffle(ids)
    wanted = ids[: REQUESTS + WARM_UP]
    buyers = list(get_user_model().objects.filter(username__startswith="bench_buyer").order_by("pk")[:20])
    # One client (one handler, as one worker has): each request carries the next buyer's cookie.
    client = Client(raise_request_exception=True, HTTP_HOST=settings.ALLOWED_HOSTS[0])
    cookies = [session_cookie(buyer).split("=", 1) for buyer in buyers] if VISITOR == "buyer" else []
    sent = count_redis_round_trips()
    # Timed by CPU time, as the table: waiting for PostgreSQL or Redis is not what a miss costs a core.
    profiler = cProfile.Profile(time.process_time) if PROFILE else None
    cpu_ms, wall_ms, sql_ms, queries, round_trips, statuses = [], [], [], [], [], []
    for number, pk in enumerate(wanted):
        if cookies:
            name, value = cookies[number % len(cookies)]
            client.cookies[name] = value
        counted = number >= WARM_UP
        with CaptureQueriesContext(connection) as captured:
            trips = sent[0]
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler is not None and counted:
                profiler.enable()
            response = client.get(f"/listings/{pk}/")
            if profiler is not None and counted:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            trips = sent[0] - trips
        if not counted:
            continue
        statuses.append(response.status_code)
        cpu_ms.append(cpu * 1000)
        wall_ms.append(wall * 1000)
        queries.append(len(captured.captured_queries))
        sql_ms.append(sum(float(query["time"]) for query in captured.captured_queries) * 1000)
        round_trips.append(trips)
    print()
    who = f"a logged-in buyer ({len(cookies)} buyers in turn)" if cookies else "an anonymous visitor"
    print(f"Listing page misses for {who}: {len(cpu_ms)} distinct random listings on sale of "
          f"{len(ids):,}, in-process (test Client, the bench settings, PostgreSQL and Redis)")
    print()
    print("| per request | mean | p50 | p90 | max |")
    print("|---|---|---|---|---|")
    rows = (("CPU ms (process_time)", cpu_ms), ("wall ms", wall_ms),
            ("SQL ms (wall, as Django times its queries)", sql_ms), ("SQL queries", queries),
            ("Redis round trips", round_trips))
    for name, values in rows:
        digits = 2 if name in ("SQL queries", "Redis round trips") else 1  # means of small counts
        cells = [statistics.mean(values), statistics.median(values), percentile(values, 0.9), max(values)]
        print(f"| {name} | " + " | ".join(f"{value:.{digits}f}" for value in cells) + " |")
    bad = [status for status in statuses if status != 200]
    print(f"\nanswers other than 200: {len(bad)}")
    if profiler is not None:
        profiler.dump_stats(PROFILE)
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(40)
            print(f"\ncProfile of the counted requests, by {order} (all: python -m pstats {PROFILE}):")
            print(out.getvalue().split("\n", 6)[-1])


if __name__ == "__main__":
    main()
