"""Fill the benchmark's PostgreSQL with N listings fast: COPY, not INSERT (1M in a few minutes).

    DJANGO_SETTINGS_MODULE=bench.site.settings python bench/seed.py --listings 100000

Run by scripts/bench.sh on its throwaway cluster after `migrate`. The mix looks like a
marketplace that has run for a while: most listings active, many sold or withdrawn (they stay
in the table and the browse page must skip them), a few reserved (some holds still live, some
lapsed), and one seller in five who cannot take payments yet (their listings are not shown).
Stubs share one drawn picture per category. Also creates the reference page's fortune table
BENCH_BUYERS buyers (bench/pages.py logs them in for its `[buyer]` rows; some hold seeded
reservations) and BENCH_HOLDERS buyers with no seeded holds, who reserve and buy in
bench/churn.py. RARE_LISTINGS stubs, spread over the whole
catalogue whatever its size, are by the performer RARE_PERFORMER, so a search for RARE_WORD
matches a handful of listings at 10k and at 1M alike (every word of the curated demo events
matches thousands at 1M).
"""

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAYABLE_SELLERS = 40
UNPAYABLE_SELLERS = 10
BENCH_BUYERS = 100
BENCH_HOLDERS = 200
# (status, weight): what a catalogue looks like after a while of trading.
RARE_WORD = "quokka"
RARE_PERFORMER = "The Quokka Quartet"
RARE_LISTINGS = 24
STATUS_MIX = [("active", 70), ("sold", 20), ("withdrawn", 5), ("reserved_live", 2), ("reserved_lapsed", 3)]


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.site.settings")
    import django

    django.setup()


def make_users():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from accounts.models import StripeAccountStatus
    from accounts.usernames import username_key  # bulk_create skips User.save(), which sets it

    User = get_user_model()
    password = make_password("bench-password")  # hashed once, shared (hashing is slow on purpose)
    sellers = []
    for number in range(PAYABLE_SELLERS + UNPAYABLE_SELLERS):
        payable = number < PAYABLE_SELLERS
        sellers.append(User(
            username=f"bench_seller{number}", username_key=username_key(f"bench_seller{number}"),
            first_name="Bench", last_name=f"Seller {number}",
            password=password, is_seller=True,
            stripe_account_id=f"acct_bench{number:08d}" if payable else "",
            stripe_account_status=StripeAccountStatus.ENABLED if payable else StripeAccountStatus.PENDING,
            stripe_onboarding_completed=payable, stripe_capabilities_enabled=payable,
        ))
    User.objects.bulk_create(sellers)
    buyers = [
        User(username=f"bench_buyer{number}", username_key=username_key(f"bench_buyer{number}"),
             password=password)
        for number in range(BENCH_BUYERS)
    ]
    holders = [
        User(username=f"bench_holder{number}", username_key=username_key(f"bench_holder{number}"),
             password=password)
        for number in range(BENCH_HOLDERS)
    ]
    User.objects.bulk_create(buyers + holders)
    sellers = list(User.objects.filter(username__startswith="bench_seller").order_by("pk"))
    buyers = list(User.objects.filter(username__startswith="bench_buyer").order_by("pk"))
    return sellers, buyers


def _next_id(cursor, table):
    cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return cursor.fetchone()[0]


def _other_columns(model, given):
    """The model's other concrete columns and their defaults (a new field must not break COPY)."""
    fields = [f for f in model._meta.concrete_fields if f.column not in given]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection=_connection()) for f in fields)
    return tuple(f.column for f in fields), defaults


def _connection():
    from django.db import connection

    return connection


def copy_listings(*, count: int, sellers, buyers, rng: random.Random, progress) -> None:
    from django.db import connection
    from django.utils import timezone

    from demo import catalogue as demo
    from marketplace.models import Listing, Stub

    images = demo.shared_category_images(rng)
    now = timezone.now()
    statuses = [status for status, weight in STATUS_MIX for _ in range(weight)]
    stub_columns = ("id", "event_name", "performer", "venue", "city", "event_date", "category",
                    "condition", "description", "photo", "thumbnail", "created_at")
    listing_columns = ("id", "seller_id", "stub_id", "price_cents", "currency", "status", "reserved_by_id",
                       "reserved_until", "payment_required", "created_at", "updated_at")
    # Columns added to the models later get their model default, so the seeder keeps working.
    stub_extra, stub_defaults = _other_columns(Stub, stub_columns)
    listing_extra, listing_defaults = _other_columns(Listing, listing_columns)
    stub_columns += stub_extra
    listing_columns += listing_extra
    three_years = 3 * 365 * 24 * 3600
    rare = set(rng.sample(range(count), min(RARE_LISTINGS, count)))
    batch = 50_000
    with connection.cursor() as cursor:
        first_stub = _next_id(cursor, Stub._meta.db_table)
        first_listing = _next_id(cursor, Listing._meta.db_table)
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no COPY
        done = 0
        while done < count:
            size = min(batch, count - done)
            drafts = [demo.demo_stub(rng) for _ in range(size)]
            created = [now - datetime.timedelta(seconds=rng.randrange(three_years)) for _ in range(size)]
            with raw.copy(f"COPY {Stub._meta.db_table} ({', '.join(stub_columns)}) FROM STDIN") as copy:
                for offset, (draft, at) in enumerate(zip(drafts, created, strict=True)):
                    photo, thumb = images[draft.category]
                    performer = RARE_PERFORMER if done + offset in rare else draft.performer
                    copy.write_row((first_stub + done + offset, draft.event_name, performer,
                                    draft.venue, draft.city, draft.event_date, draft.category,
                                    draft.condition, draft.description, photo, thumb, at, *stub_defaults))
            listing_copy = f"COPY {Listing._meta.db_table} ({', '.join(listing_columns)}) FROM STDIN"
            with raw.copy(listing_copy) as copy:
                for offset, (draft, at) in enumerate(zip(drafts, created, strict=True)):
                    status = rng.choice(statuses)
                    reserved_by = reserved_until = None
                    if status.startswith("reserved"):
                        reserved_by = rng.choice(buyers).pk
                        minutes = rng.randint(1, 14) if status == "reserved_live" else -rng.randint(1, 600)
                        reserved_until = now + datetime.timedelta(minutes=minutes)
                        status = "reserved"
                    copy.write_row((first_listing + done + offset, rng.choice(sellers).pk,
                                    first_stub + done + offset, draft.price_cents, "usd", status, reserved_by,
                                    reserved_until, True, at, at, *listing_defaults))
            done += size
            progress(done)
        for table in (Stub._meta.db_table, Listing._meta.db_table):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=100_000)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from bench.site.reference import create_fortunes
    from demo.catalogue import refresh_planner_statistics

    if connection.vendor != "postgresql":
        sys.exit("bench/seed.py fills PostgreSQL only (COPY); point DATABASE_URL at one.")
    started = time.perf_counter()
    rng = random.Random(args.listings)
    sellers, buyers = make_users()

    def progress(done):
        print(f"  {done:>9,} / {args.listings:,} listings  ({time.perf_counter() - started:5.1f} s)",
              file=sys.stderr, flush=True)

    copy_listings(count=args.listings, sellers=sellers, buyers=buyers, rng=rng, progress=progress)
    with connection.cursor() as cursor:
        create_fortunes(cursor)
        cursor.execute("VACUUM ANALYZE")  # fresh statistics and visibility map, as a live site has
    refresh_planner_statistics()
    print(f"seeded {args.listings:,} listings in {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
