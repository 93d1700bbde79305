"""Benchmark of the browse page (`/`) and the listings API at growing catalogue sizes.

Run from the project root (not part of the test suite):

    .venv/bin/python bench/browse.py                         # N = 1,000 and 10,000; 30 requests each
    .venv/bin/python bench/browse.py --sizes 1000,10000,100000 --iterations 50
    .venv/bin/python bench/browse.py --existing-db           # the database DATABASE_URL points at

Each N gets its own SQLite file under var/bench/ (kept between runs, so 100k is seeded once;
--fresh re-seeds), filled through marketplace.demo.bulk_create_listings — the same code as
`seed_demo --listings N`. Pages are fetched through Django's test Client (the whole middleware
and template stack, no network), and the table gives, per N and scenario, the median and 95th
percentile time in milliseconds and the number of SQL queries one request makes.

Bench sellers are marked as able to take payments directly in the database (no Stripe): the
benchmark measures the marketplace, not onboarding.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENARIOS = [
    ("first page", "/", {}),
    ("search", "/", {"q": "springsteen"}),
    ("filter+sort", "/", {"category": "concert", "min_price": "20", "max_price": "200", "sort": "price_asc"}),
    ("deep page", "/", {"page": "DEEP"}),
    ("api search", "/api/listings/", {"q": "fenway", "sort": "event_date"}),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated listing counts")
    parser.add_argument("--iterations", type=int, default=30, help="timed requests per scenario")
    parser.add_argument("--fresh", action="store_true", help="re-seed the bench databases")
    parser.add_argument("--existing-db", action="store_true",
                        help="use the configured database as it is (no seeding; N is what it holds)")
    return parser.parse_args()


def setup_django(bench_dir: Path, existing_db: bool):
    if not existing_db:
        os.environ["DATABASE_URL"] = f"sqlite:///{bench_dir / 'placeholder.sqlite3'}"
    os.environ.setdefault("MEDIA_ROOT", str(bench_dir / "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stubcollector.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-anything-else")
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    # Static files are not served in the bench; skip the manifest lookups of production.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def use_sqlite_file(path: Path) -> bool:
    """Point the default connection at `path`; a new file gets the schema (True when new).

    Tables are made straight from the models, as the test runner does with MIGRATE=False:
    seconds instead of the minutes dj-stripe's migration history takes.
    """
    from django.apps import apps
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = str(path)
    if path.exists() and path.stat().st_size:
        return False
    with connection.schema_editor() as editor:
        for model in apps.get_models():
            if model._meta.managed and not model._meta.proxy:
                editor.create_model(model)
    return True


def seed(count: int):
    import random

    from django.contrib.auth import get_user_model

    from accounts.models import StripeAccountStatus
    from marketplace import demo

    rng = random.Random(count)
    sellers = [
        get_user_model().objects.create(
            username=f"bench_seller{i}", first_name="Bench", last_name=f"Seller {i}", is_seller=True,
            stripe_account_id=f"acct_bench{i:08d}", stripe_account_status=StripeAccountStatus.ENABLED,
            stripe_onboarding_completed=True, stripe_capabilities_enabled=True,
        )
        for i in range(8)
    ]
    images = demo.shared_category_images(rng)
    started = time.perf_counter()
    demo.bulk_create_listings(sellers=sellers, count=count, rng=rng, images=images)
    demo.refresh_planner_statistics()
    return time.perf_counter() - started


def measure(client, path, params, iterations):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm up: templates, query plans, page cache
        response = client.get(path, params, secure=True)
        assert response.status_code == 200, (path, params, response.status_code)
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        client.get(path, params, secure=True)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(path, params, secure=True)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
    return statistics.median(timings), p95, len(queries.captured_queries)


def main():
    args = parse_args()
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    setup_django(bench_dir, args.existing_db)

    from django.db import connection
    from django.test import Client

    from marketplace.models import Listing

    if args.existing_db:
        sizes = [None]
    else:
        sizes = [int(size) for size in args.sizes.split(",") if size.strip()]

    rows = []
    for size in sizes:
        if size is not None:
            path = bench_dir / f"browse-{size}.sqlite3"
            if args.fresh and path.exists():
                path.unlink()
            if use_sqlite_file(path):
                took = seed(size)
                print(f"seeded {size:,} listings into {path.relative_to(ROOT)} in {took:.1f} s", flush=True)
        count = Listing.objects.purchasable_now().count()
        if not count:
            print("No listing can be bought in this database (are its sellers onboarded?); "
                  "the figures below measure empty pages.", flush=True)
        client = Client()
        for name, url, params in SCENARIOS:
            params = dict(params)
            if params.get("page") == "DEEP":
                params["page"] = str(max(1, count // 24 // 2))  # halfway through the catalogue
            median, p95, queries = measure(client, url, params, args.iterations)
            rows.append((count, name, median, p95, queries))
            print(f"  {count:>9,}  {name:<12} median {median:8.1f} ms  p95 {p95:8.1f} ms  {queries} queries",
                  flush=True)
        connection.close()

    print()
    print(f"Browse benchmark on {connection.vendor} ({args.iterations} requests per row)")
    print(f"{'N':>9}  {'scenario':<12} {'median ms':>10} {'p95 ms':>9} {'queries':>8}")
    for count, name, median, p95, queries in rows:
        print(f"{count:>9,}  {name:<12} {median:>10.1f} {p95:>9.1f} {queries:>8}")


if __name__ == "__main__":
    main()
