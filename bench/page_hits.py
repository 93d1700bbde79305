"""What a page cache hit costs, anonymous and logged in, in-process.

    python bench/page_hits.py        # run by scripts/bench.sh (BENCH_SCRIPTS=page_hits)

The question under bench/pages.py's cached rows, without the machine's noise: the CPU time
(time.process_time), the Redis round trips and the SQL queries of one request for a catalogue
page the cache already holds (marketplace/page_cache.py for an anonymous visitor,
marketplace/personal.py's shared copy for a logged-in buyer with a real session), through
Django's whole stack in-process (the test Client). Each page is asked for once to file it (not
counted), then anonymous and logged-in requests alternate in blocks, so both kinds see the same
machine. Nothing writes meanwhile, so every counted request should be a hit: the `drawn` column
counts those whose page was drawn instead (the view ran: an expired or refused copy), which a
hit's CPU figure must not include.

    BENCH_HITS_REQUESTS=300   counted hits of each kind
    BENCH_HITS_PATH=/         the page asked for
    BENCH_HITS_PROFILE=path   also cProfile the counted hits there (path.anonymous, path.member)

It needs what scripts/bench.sh sets up: the bench database, seeded, and the cache (Redis).
"""

import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.listing_miss import percentile, setup_django  # noqa: E402  (needs ROOT on the path)

REQUESTS = int(os.environ.get("BENCH_HITS_REQUESTS", 300))
PATH = os.environ.get("BENCH_HITS_PATH", "/")
PROFILE = os.environ.get("BENCH_HITS_PROFILE", "")
BLOCK = 25  # requests of one kind before the other kind's turn
WARM_UP = 20  # of each kind: imports, templates, connections, the per-process key memory


class RoundTrips:
    """Counts what redis-py sends: one packed send per command or pipeline, so one per round trip."""

    def __init__(self):
        from redis.connection import AbstractConnection

        self.count, self.cls = 0, AbstractConnection
        self.original = AbstractConnection.send_packed_command
        counter = self

        def counted(connection, command, check_health=True):
            counter.count += 1
            return counter.original(connection, command, check_health)

        AbstractConnection.send_packed_command = counted


class Drawn:
    """Counts the pages drawn rather than served from a copy: both caches (page_cache's anonymous
    one and personal's shared copy) call page_cache.page_begin before they run the view."""

    def __init__(self):
        from marketplace import page_cache

        self.count = 0
        begin = page_cache.page_begin

        def counted(request):
            self.count += 1
            return begin(request)

        page_cache.page_begin = counted


def main():
    setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.churn import session_cookie

    cache.clear()
    trips = RoundTrips()
    drawn = Drawn()
    buyers = list(get_user_model().objects.filter(username__startswith="bench_buyer").order_by("pk")[:20])
    cookies = [session_cookie(buyer).split("=", 1) for buyer in buyers]
    host = settings.ALLOWED_HOSTS[0]
    kinds = {"anonymous": Client(HTTP_HOST=host), "member": Client(HTTP_HOST=host)}
    figures = {kind: {"cpu": [], "trips": [], "queries": [], "bad": 0, "drawn": 0, "bytes": 0}
               for kind in kinds}
    profilers = {kind: cProfile.Profile(time.process_time) for kind in kinds} if PROFILE else {}
    done = dict.fromkeys(kinds, 0)
    while min(done.values()) < REQUESTS + WARM_UP:
        for kind, client in kinds.items():
            for _ in range(BLOCK):
                number = done[kind]
                if number >= REQUESTS + WARM_UP:
                    break
                if kind == "member":
                    name, value = cookies[number % len(cookies)]
                    client.cookies[name] = value
                counted = number >= WARM_UP
                profiler = profilers.get(kind) if counted else None
                before, drawn_before = trips.count, drawn.count
                with CaptureQueriesContext(connection) as captured:
                    cpu = time.process_time()
                    if profiler is not None:
                        profiler.enable()
                    response = client.get(PATH)
                    if profiler is not None:
                        profiler.disable()
                    cpu = time.process_time() - cpu
                done[kind] += 1
                if not counted:
                    continue
                found = figures[kind]
                found["cpu"].append(cpu * 1000)
                found["trips"].append(trips.count - before)
                found["queries"].append(len(captured.captured_queries))
                found["bad"] += response.status_code != 200
                found["drawn"] += drawn.count - drawn_before
                found["bytes"] = len(response.content)
    print()
    print(f"Page cache hits of {PATH}: {REQUESTS} of each kind, in-process (test Client, the bench "
          f"settings, PostgreSQL and Redis), blocks of {BLOCK} alternating; logged in: {len(cookies)} "
          f"buyers in turn")
    print()
    print("| per hit | CPU ms mean | p50 | p90 | Redis round trips (mean) | SQL queries (mean) | not 200 "
          "| drawn | bytes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, found in figures.items():
        cpu = found["cpu"]
        print(f"| {kind} | {statistics.mean(cpu):.2f} | {statistics.median(cpu):.2f} | "
              f"{percentile(cpu, 0.9):.2f} | {statistics.mean(found['trips']):.2f} | "
              f"{statistics.mean(found['queries']):.2f} | {found['bad']} | {found['drawn']} | "
              f"{found['bytes']:,} |")
    for kind, profiler in profilers.items():
        path = f"{PROFILE}.{kind}"
        profiler.dump_stats(path)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        print(f"\ncProfile of the counted {kind} hits, cumulative (all: python -m pstats {path}):")
        print(out.getvalue().split("\n", 6)[-1])


if __name__ == "__main__":
    main()
