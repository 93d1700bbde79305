"""The sold-price history's query plan (PostgreSQL): each group's sales are read from the
snapshots' partial covering indexes of completed sales (lower(performer)/lower(event_name), the
date, price, payment time and order id), never from the orders, the snapshot rows or the
listings; and the plan gives the same figures as counting the completed orders in Python.

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
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.models import Listing, ListingStatus, Stub
from payments.models import Order, OrderSnapshot, OrderStatus
from payments.selectors.sold_prices import comparable_group, sold_prices_for_groups

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


def test_a_pages_groups_are_read_from_the_partial_covering_indexes_alone(sales, no_table_scans):
    with CaptureQueriesContext(connection) as queries:
        sold_prices_for_groups(groups=GROUPS)
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + query["sql"])
        (document,) = cursor.fetchone()
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    scans = [node for node in nodes(plan) if "Relation Name" in node]
    assert {node["Relation Name"] for node in scans} == {"payments_ordersnapshot"}  # no order, no listing
    assert {node["Node Type"] for node in scans} == {"Index Only Scan"}  # no snapshot row read
    indexes = {node["Index Name"] for node in scans}
    assert indexes == {"snapshot_sold_performer_idx", "snapshot_sold_event_idx"}
    assert len(scans) == len(GROUPS)
    assert "payments_order " not in query["sql"] and "marketplace_listing" not in query["sql"]


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
