"""The sold-price history's queries at scale: after bench/seed.py, give every sold listing a
completed order and its snapshot (SQL, in one statement each) and count every group's summary,
then time on a cold cache, for the biggest group, a rare one, and a browse page's 24 groups: the
page's read (a summary row per group) and the counting a completed or refunded sale costs its
groups (their sales from the snapshots' covering indexes), with their plans.

    DJANGO_SETTINGS_MODULE=bench.site.settings python bench/sold_prices.py

Needs PostgreSQL (as bench/seed.py). Prints the timings and the plan of the page's query; the
figures are in docs/performance.md ("Sold-price history").
"""

import datetime
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import setup_django  # noqa: E402  after the path above

ROUNDS = 7


BATCH = 50_000  # listings per insert: one statement over every sold listing slowed past 100k


def add_sales(cursor) -> int:
    """A completed order and its snapshot for every sold listing without an order, paid over
    the last year (the bench catalogue's sold listings have none), a batch of listings at a time.
    Snapshots only for the orders made here: in a whole `make bench` bench/checkout.py has left
    unpaid orders of its own, whose snapshot would have no time of payment."""
    cursor.execute("SELECT coalesce(max(id), 0) FROM marketplace_listing")
    (last,) = cursor.fetchone()
    added = 0
    for first in range(0, last + 1, BATCH):
        started = time.perf_counter()
        added += _add_sales_between(cursor, first, first + BATCH - 1)
        print(
            f"  sales of listings {first:,}-{first + BATCH - 1:,}: {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    cursor.execute("VACUUM ANALYZE payments_order")
    cursor.execute("VACUUM ANALYZE payments_ordersnapshot")
    return added


def _add_sales_between(cursor, first: int, last: int) -> int:
    cursor.execute(
        """
        INSERT INTO payments_order (buyer_id, seller_id, listing_id, amount_cents, application_fee_cents,
            currency, status, status_before_dispute, stripe_account_id, payment_intent_id, shipping_name,
            shipping_line1, shipping_line2, shipping_city, shipping_state, shipping_postal_code,
            shipping_country, tracking_number, shipping_carrier, shipping_cents, attention_reason,
            payment_failures, created_at, updated_at, paid_at, completed_at)
        SELECT (SELECT min(id) FROM accounts_user WHERE username LIKE 'bench_buyer%%'), l.seller_id, l.id,
            l.price_cents, l.price_cents / 10, 'usd', 'completed', '', 'acct_bench', 'pi_bench' || l.id,
            'Bench Buyer', '1 Road', '', 'Town', '', '12345', 'US', '', '', 0, '', 0,
            now() - (l.id %% 365) * interval '1 day', now(), now() - (l.id %% 365) * interval '1 day', now()
        FROM marketplace_listing l
        WHERE l.status = 'sold' AND l.id BETWEEN %s AND %s
            AND NOT EXISTS (SELECT 1 FROM payments_order o WHERE o.listing_id = l.id)
        """,
        [first, last],
    )
    added = cursor.rowcount
    cursor.execute(
        """
        INSERT INTO payments_ordersnapshot (order_id, event_name, performer, venue, city, event_date,
            category, condition, description, price_cents, shipping_cents, photos, taken_at, backfilled,
            completed_sale)
        SELECT o.id, s.event_name, s.performer, s.venue, s.city, s.event_date, s.category, s.condition,
            '', o.amount_cents, 0, '[]', o.paid_at, false, true
        FROM payments_order o JOIN marketplace_listing l ON l.id = o.listing_id
        JOIN marketplace_stub s ON s.id = l.stub_id
        WHERE o.listing_id BETWEEN %s AND %s AND o.payment_intent_id = 'pi_bench' || o.listing_id
            AND NOT EXISTS (SELECT 1 FROM payments_ordersnapshot x WHERE x.order_id = o.id)
        """,
        [first, last],
    )
    return added


def timed(read, groups) -> float:
    """The median of ROUNDS cold calls of read(groups) (no cache), in milliseconds."""
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        read(groups)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def explain(sql, params) -> None:
    """The plan of one query, EXPLAIN ANALYZE, a node a line."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        (document,) = cursor.fetchone()
    plan = (json.loads(document) if isinstance(document, str) else document)[0]

    def walk(node, depth=0):
        name = node.get("Index Name") or node.get("Relation Name") or ""
        print(
            f"{'  ' * depth}{node['Node Type']} {name} rows={node.get('Actual Rows')} "
            f"ms={node.get('Actual Total Time')} heap_fetches={node.get('Heap Fetches', '-')}"
        )
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan["Plan"])
    print(f"execution {plan['Execution Time']:.1f} ms")


def main():
    setup_django()
    from django.db import connection, transaction
    from django.db.models import Count
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from marketplace.forms import parse_listing_filters
    from marketplace.models import Listing
    from marketplace.selectors import listing_search
    from payments.models import OrderSnapshot, SoldPriceSummary
    from payments.selectors.sold_prices import (
        _sold_prices_read,
        comparable_group,
        sale_groups,
        sold_prices_count,
        sold_prices_sql,
        stub_comparable_group,
    )
    from payments.services.sold_prices import sold_price_summaries_count, sold_price_summaries_recount

    with connection.cursor() as cursor:
        started = time.perf_counter()
        added = add_sales(cursor)
        print(f"added {added:,} completed sales in {time.perf_counter() - started:.1f} s")
    if added or not SoldPriceSummary.objects.exists():
        started = time.perf_counter()
        counted = sold_price_summaries_recount()
        print(f"counted {counted:,} groups' summaries in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE payments_soldpricesummary")
    listings = Listing.objects.count()
    sales = OrderSnapshot.objects.filter(completed_sale=True).count()
    biggest = (
        OrderSnapshot.objects.filter(completed_sale=True)
        .exclude(performer="")
        .values("performer", "event_date__year")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    big = comparable_group(
        performer=biggest["performer"],
        event_name="",
        event_date=datetime.date(biggest["event_date__year"], 1, 1),
    )
    rare = comparable_group(
        performer="The Quokka Quartet", event_name="", event_date=datetime.date(1990, 1, 1)
    )
    _form, filters = parse_listing_filters(QueryDict(""))
    page = list(listing_search(filters=filters).select_related("stub")[:24])
    page_groups = list(dict.fromkeys(stub_comparable_group(listing.stub) for listing in page))
    print(
        f"{listings:,} listings, {sales:,} sales, {SoldPriceSummary.objects.count():,} groups; biggest group "
        f"{biggest['performer']} {biggest['event_date__year']}: {biggest['n']:,} sales"
    )
    print(
        f"page read (summaries): biggest group {timed(_sold_prices_read, [big]):.1f} ms; rare group "
        f"{timed(_sold_prices_read, [rare]):.1f} ms; a browse page's {len(page_groups)} groups "
        f"{timed(_sold_prices_read, page_groups):.1f} ms (median of {ROUNDS}, cold cache)"
    )
    print(
        f"counting from the sales: biggest group {timed(sold_prices_count, [big]):.1f} ms; rare group "
        f"{timed(sold_prices_count, [rare]):.1f} ms; the page's {len(page_groups)} groups "
        f"{timed(sold_prices_count, page_groups):.1f} ms (median of {ROUNDS})"
    )
    # What a completed or refunded sale of the biggest group costs its transaction: its two groups
    # counted again under their rows' locks (rolled back).
    snapshot = OrderSnapshot.objects.filter(
        completed_sale=True, performer=biggest["performer"], event_date__year=biggest["event_date__year"]
    ).first()
    groups = sale_groups(
        performer=snapshot.performer, event_name=snapshot.event_name, event_date=snapshot.event_date
    )
    times = []
    for _ in range(ROUNDS):
        with transaction.atomic():
            started = time.perf_counter()
            sold_price_summaries_count(groups=groups)
            times.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    print(
        "a sale of the biggest group completed or refunded: its 2 groups counted in "
        f"{statistics.median(times):.1f} ms (median of {ROUNDS})"
    )
    print("\nthe page's read:")
    with CaptureQueriesContext(connection) as queries:
        _sold_prices_read(page_groups)
    (query,) = queries.captured_queries
    explain(query["sql"], None)
    print("\ncounting the page's groups from their sales:")
    explain(*sold_prices_sql(page_groups))


if __name__ == "__main__":
    main()
