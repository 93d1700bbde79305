"""The sold-price history's query plans (PostgreSQL): a page reads one summary row per group by
key; counting a group again (when one of its sales completes or is undone) reads its sales from
the snapshots' partial covering indexes of completed sales (lower(performer)/lower(event_name),
the date, price, order id and payment time), never from the orders, the snapshot rows or the
listings; the summaries give the same figures as counting the completed orders in Python; and
sales of one group completing at once are all counted.

A few thousand sales fit in a few pages, where reading a whole table is the cheaper plan, so table
scans are priced out (as in marketplace/tests/test_search_ranges_postgres.py): the test asks
which index paths the query offers. docs/performance.md ("Sold-price history") has the figures
at a million listings.
"""

import datetime
import json
import random
import statistics

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.models import Listing, ListingStatus, Stub
from payments.models import Order, OrderSnapshot, OrderStatus, SoldPriceSummary
from payments.selectors.sold_prices import comparable_group, sold_prices_for_groups, sold_prices_sql
from payments.services.orders import order_transition
from payments.services.sold_prices import sold_price_summaries_recount
from payments.tests.sale_support import sale
from testing.threads import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PERFORMERS = ["Prince", "Queen", "Madonna", "Bruce Springsteen", "", ""]
EVENTS = ["Purple Rain Tour", "A Night at the Opera", "Star Wars", "World Series Game 6"]
STATUSES = [OrderStatus.COMPLETED] * 3 + [OrderStatus.REFUNDED, OrderStatus.SHIPPED, OrderStatus.PAID]


@pytest.fixture
def sales():
    rng = random.Random(22)
    seller, buyer = SellerFactory(), UserFactory()
    drafts = [
        (
            rng.choice(PERFORMERS),
            rng.choice(EVENTS),
            datetime.date(1975 + rng.randrange(20), 1 + rng.randrange(12), 1),
        )
        for _ in range(4000)
    ]
    stubs = Stub.objects.bulk_create(
        Stub(performer=p, event_name=e, event_date=d, venue="Hall", city="Town", category="concert")
        for p, e, d in drafts
    )
    listings = Listing.objects.bulk_create(
        Listing(seller=seller, stub=stub, price_cents=rng.randrange(500, 90000), status=ListingStatus.SOLD)
        for stub in stubs
    )
    orders = Order.objects.bulk_create(
        Order(
            buyer=buyer,
            seller=seller,
            listing=listing,
            amount_cents=listing.price_cents,
            application_fee_cents=listing.price_cents // 10,
            status=rng.choice(STATUSES),
            stripe_account_id="acct_test",
            shipping_name="A Buyer",
            shipping_line1="1 Road",
            shipping_city="Town",
            shipping_postal_code="12345",
        )
        for listing in listings
    )
    now = timezone.now()
    OrderSnapshot.objects.bulk_create(
        OrderSnapshot(
            order=order,
            event_name=stub.event_name,
            performer=stub.performer,
            venue="Hall",
            city="Town",
            event_date=stub.event_date,
            category="concert",
            condition="good",
            price_cents=order.amount_cents,
            taken_at=now - datetime.timedelta(hours=rng.randrange(5000)),
            completed_sale=order.status == OrderStatus.COMPLETED,  # as order_transition keeps it
        )
        for order, stub in zip(orders, stubs, strict=True)
    )
    with connection.cursor() as cursor:
        for table in ("payments_order", "payments_ordersnapshot", "marketplace_listing", "marketplace_stub"):
            cursor.execute(f"ANALYZE {table}")
    sold_price_summaries_recount()  # as migration 0019 counts the sales made before it
    return orders


@pytest.fixture
def no_table_scans():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")


def nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


GROUPS = [
    comparable_group(performer="Prince", event_name="", event_date=datetime.date(1985, 1, 1)),
    comparable_group(performer="queen", event_name="", event_date=datetime.date(1980, 1, 1)),
    comparable_group(performer="", event_name="Star Wars", event_date=datetime.date(1977, 5, 1)),
]


def plan_of(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (document,) = cursor.fetchone()
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def test_counting_groups_reads_the_partial_covering_indexes_alone(sales, no_table_scans):
    sql, params = sold_prices_sql(GROUPS)
    scans = [node for node in nodes(plan_of(sql, params)) if "Relation Name" in node]
    assert {node["Relation Name"] for node in scans} == {"payments_ordersnapshot"}  # no order, no listing
    assert {node["Node Type"] for node in scans} == {"Index Only Scan"}  # no snapshot row read
    indexes = {node["Index Name"] for node in scans}
    assert indexes == {"snapshot_sold_performer_idx", "snapshot_sold_event_idx"}
    assert len(scans) == len(GROUPS)
    assert "payments_order " not in sql and "marketplace_listing" not in sql


def test_a_pages_groups_are_read_as_one_summary_row_each_by_key(sales, no_table_scans):
    with CaptureQueriesContext(connection) as queries:
        sold_prices_for_groups(groups=GROUPS)
    (query,) = queries.captured_queries
    plan = list(nodes(plan_of(query["sql"])))
    tables = {node["Relation Name"] for node in plan if "Relation Name" in node}
    indexes = {node["Index Name"] for node in plan if "Index Name" in node}
    assert tables == {"payments_soldpricesummary"}
    # Its primary key, or the copy Django makes of a text key for LIKE (..._key_..._like).
    (index,) = indexes
    assert index == "payments_soldpricesummary_pkey" or index.startswith("payments_soldpricesummary_key_")
    assert "Seq Scan" not in {node["Node Type"] for node in plan}


def test_the_figures_are_those_of_the_completed_sales_of_each_group(sales):
    histories = sold_prices_for_groups(groups=GROUPS)
    for group in GROUPS:
        snapshots = OrderSnapshot.objects.filter(order__status=OrderStatus.COMPLETED)
        if group.performer:
            prices = [
                s.price_cents
                for s in snapshots
                if s.performer.lower() == group.performer and s.event_date.year == group.year
            ]
        else:
            prices = [
                s.price_cents
                for s in snapshots
                if s.event_name.lower() == group.event_name and s.event_date == group.event_date
            ]
        sold = histories[group]
        assert sold.count == len(prices)
        if prices:
            assert (sold.lowest_cents, sold.highest_cents) == (min(prices), max(prices))
            assert sold.median_cents == int(statistics.median(prices) + 0.5)


RACERS = 6


def test_sales_of_one_group_completing_at_once_are_all_counted(transactional_db):
    shipped = [sale(price_cents=1000 * (number + 1), status=OrderStatus.SHIPPED) for number in range(RACERS)]

    def complete(order_id):
        def action():
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=order_id)
                order_transition(order=order, to=OrderStatus.COMPLETED)

        return action

    outcomes = run_at_once([complete(order.pk) for order in shipped])
    assert outcomes == [None] * RACERS
    group = GROUPS[0]  # Prince, 1985: the sales' group
    summary = SoldPriceSummary.objects.get(key=group.summary_key)
    assert (summary.sales, summary.lowest_cents, summary.highest_cents) == (RACERS, 1000, 1000 * RACERS)
    assert summary.median_cents == (1000 * (RACERS // 2) + 1000 * (RACERS // 2 + 1) + 1) // 2
    assert len(summary.recent) == RACERS
