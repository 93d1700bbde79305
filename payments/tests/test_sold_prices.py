"""The sold-price history's selector (payments.selectors.sold_prices): which sales compare, the
figures, what is kept of a sale, and its cache."""

import datetime
import pickle

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.tests.factories import StubFactory
from payments.models import OrderStatus
from payments.selectors.sold_prices import (
    RECENT_SALES,
    Sale,
    comparable_group,
    sold_prices_for_groups,
    sold_prices_sql,
    stub_comparable_group,
    stub_sold_prices,
)
from payments.services.orders import order_transition
from payments.tests.sale_support import sale

pytestmark = pytest.mark.django_db

PRINCE_1985 = comparable_group(performer="Prince", event_name="", event_date=datetime.date(1985, 6, 1))


def history(group=PRINCE_1985):
    return sold_prices_for_groups(groups=[group])[group]


def test_an_odd_count_of_sales_has_the_middle_price_as_median():
    for cents in (9000, 3000, 5000, 12000, 4000):
        sale(price_cents=cents)
    sold = history()
    assert (sold.count, sold.lowest_cents, sold.median_cents, sold.highest_cents) == (5, 3000, 5000, 12000)


def test_an_even_count_of_sales_has_the_mean_of_the_middle_two_rounded_half_up_as_median():
    for cents in (1000, 4001, 4000, 9999):
        sale(price_cents=cents)
    sold = history()
    assert (sold.count, sold.median_cents) == (4, 4001)  # (4000 + 4001) / 2 = 4000.5


def test_one_sale_is_its_own_lowest_median_and_highest():
    sale(price_cents=2500)
    sold = history()
    assert (sold.count, sold.lowest_cents, sold.median_cents, sold.highest_cents) == (1, 2500, 2500, 2500)


def test_only_completed_orders_count_as_sales():
    sale(price_cents=5000)
    for status in (
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
        OrderStatus.REFUNDED,
        OrderStatus.PARTIALLY_REFUNDED,
        OrderStatus.DISPUTED,
        OrderStatus.DISPUTE_LOST,
        OrderStatus.CANCELLED,
        OrderStatus.PAYMENT_FAILED,
    ):
        sale(price_cents=90000, status=status)
    sold = history()
    assert (sold.count, sold.highest_cents) == (1, 5000)


def test_a_listing_on_sale_is_never_a_sale_of_its_own_group():
    stub = StubFactory(performer="Prince", event_date=datetime.date(1985, 6, 1))
    stub.listings.create(seller=sale(price_cents=5000).seller, price_cents=77700)
    sold = stub_sold_prices(stub=stub)
    assert (sold.count, sold.highest_cents) == (1, 5000)


def test_a_performer_compares_with_the_same_performer_in_the_same_year_whatever_the_case():
    sale(
        price_cents=1000,
        performer="PRINCE",
        event_name="Purple Rain Tour",
        event_date=datetime.date(1985, 1, 1),
    )
    sale(
        price_cents=2000, performer="prince", event_name="Another gig", event_date=datetime.date(1985, 12, 31)
    )
    sale(price_cents=50000, performer="Prince", event_date=datetime.date(1984, 12, 31))
    sale(price_cents=60000, performer="Prince", event_date=datetime.date(1986, 1, 1))
    sale(price_cents=70000, performer="Madonna", event_date=datetime.date(1985, 6, 1))
    sold = history()
    assert (sold.count, sold.lowest_cents, sold.highest_cents) == (2, 1000, 2000)


def test_a_stub_without_a_performer_compares_with_the_same_event_only():
    day = datetime.date(1977, 5, 25)
    sale(price_cents=3000, performer="", event_name="Star Wars", event_date=day)
    sale(price_cents=4000, performer="", event_name="star wars", event_date=day)
    sale(price_cents=90000, performer="", event_name="Star Wars", event_date=day + datetime.timedelta(days=1))
    sale(price_cents=80000, performer="", event_name="Jaws", event_date=day)
    sale(price_cents=7000, performer="George Lucas", event_name="Star Wars", event_date=day)
    stub = StubFactory(performer="", event_name="Star Wars", event_date=day)
    sold = stub_sold_prices(stub=stub)
    assert (sold.count, sold.lowest_cents, sold.highest_cents) == (3, 3000, 7000)


def test_a_sale_with_a_performer_completed_shows_in_its_events_group_too():
    day = datetime.date(1977, 5, 25)
    shipped = sale(
        price_cents=7000,
        performer="George Lucas",
        event_name="Star Wars",
        event_date=day,
        status=OrderStatus.SHIPPED,
    )
    stub = StubFactory(performer="", event_name="Star Wars", event_date=day)
    assert stub_sold_prices(stub=stub).count == 0
    order_transition(order=shipped, to=OrderStatus.COMPLETED)
    assert stub_sold_prices(stub=stub).count == 1


def test_the_latest_sales_are_the_newest_few_with_their_dates_only():
    first = datetime.date(2026, 1, 1)
    for days in range(RECENT_SALES + 3):
        sale(price_cents=1000 + days, paid_on=first + datetime.timedelta(days=days))
    sold = history()
    assert sold.count == RECENT_SALES + 3
    assert len(sold.recent) == RECENT_SALES
    assert sold.recent[0] == Sale(
        day=first + datetime.timedelta(days=RECENT_SALES + 2), price_cents=1000 + RECENT_SALES + 2
    )
    assert [s.day for s in sold.recent] == sorted((s.day for s in sold.recent), reverse=True)
    assert all(type(s.day) is datetime.date for s in sold.recent)


def test_the_history_holds_no_buyer_order_or_time_of_day():
    order = sale(price_cents=5000, shipping_name="Zebulon Quixote")
    sql, _params = sold_prices_sql([PRINCE_1985])
    selected = sql.split("FROM")[0]
    assert "buyer" not in sql and "shipping" not in sql and "order_id" not in selected
    kept = repr(history()) + repr(pickle.dumps(history()))
    for secret in (order.buyer.username, order.buyer.email, "Zebulon", "15:42", "order"):
        assert secret not in kept


def test_a_pages_groups_are_read_in_one_query_and_then_from_the_cache():
    for cents in (1000, 2000, 3000):
        sale(price_cents=cents)
    other = comparable_group(performer="Madonna", event_name="", event_date=datetime.date(1985, 1, 1))
    with CaptureQueriesContext(connection) as queries:
        both = sold_prices_for_groups(groups=[PRINCE_1985, other, PRINCE_1985])
    assert len(queries) == 1
    assert (both[PRINCE_1985].count, both[other].count) == (3, 0)
    with CaptureQueriesContext(connection) as queries:
        assert history().count == 3
    assert len(queries) == 0


def test_completing_an_order_shows_at_once_in_its_group_and_a_refund_takes_it_out():
    shipped = sale(price_cents=7000, status=OrderStatus.SHIPPED)
    sale(price_cents=1000)
    assert history().count == 1
    order_transition(order=shipped, to=OrderStatus.COMPLETED)
    assert (history().count, history().highest_cents) == (2, 7000)
    order_transition(order=shipped, to=OrderStatus.REFUNDED)
    assert (history().count, history().highest_cents) == (1, 1000)


def test_a_change_in_another_group_keeps_this_groups_copy():
    sale(price_cents=1000)
    shipped = sale(price_cents=7000, performer="Madonna", status=OrderStatus.SHIPPED)
    history()
    order_transition(order=shipped, to=OrderStatus.COMPLETED)
    with CaptureQueriesContext(connection) as queries:
        history()
    assert len(queries) == 0


def test_without_a_reachable_cache_the_history_is_read_from_the_database(monkeypatch):
    sale(price_cents=1000)

    def down(*args, **kwargs):
        raise OSError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    assert history().count == 1


def test_a_stubs_group_is_the_one_its_snapshot_falls_in():
    stub = StubFactory(performer="Prince", event_date=datetime.date(1985, 2, 2))
    assert stub_comparable_group(stub) == PRINCE_1985
