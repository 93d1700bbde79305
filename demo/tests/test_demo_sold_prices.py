"""The demo's sold-price history (demo.sold_prices): real sandbox sales of its most listed events,
completed and spread over weeks, shown on the pages of the stubs still on sale."""

import random

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from demo import catalogue
from demo.sold_prices import POPULAR_EVENTS, SALES_PER_EVENT, create_demo_sales_history
from marketplace.models import Category
from payments.models import Order, OrderStatus
from payments.selectors.sold_prices import stub_sold_prices
from payments.tests.factories import sandbox_seller_onboarded

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_sale(stripe_sandbox):
    """Listings of four concerts: three of the first, two of the second, one each of the others."""
    rng = random.Random(5)
    seller = sandbox_seller_onboarded(stripe_sandbox)
    return [
        catalogue.create_demo_listing(
            seller=seller, stub=catalogue.demo_stub(rng, Category.CONCERT, index=index)
        )
        for index in (0, 0, 0, 1, 1, 2, 3)
    ]


def test_the_most_listed_events_get_completed_sandbox_sales_spread_over_weeks(on_sale, client):
    orders = create_demo_sales_history(
        listings=on_sale, buyers=UserFactory.create_batch(2), rng=random.Random(1)
    )

    assert len(orders) == POPULAR_EVENTS * SALES_PER_EVENT
    sold = Order.objects.filter(pk__in=[order.pk for order in orders]).select_related("snapshot", "payment")
    assert {order.status for order in sold} == {OrderStatus.COMPLETED}
    assert all(order.payment.charge_id for order in sold)  # a real sandbox payment staff can refund
    assert {order.snapshot.event_name for order in sold} == {
        catalogue.EVENTS[Category.CONCERT][index].event_name for index in (0, 1, 2)
    }
    days = {order.snapshot.taken_at.date() for order in sold}
    assert len(days) > SALES_PER_EVENT and all(order.snapshot.taken_at == order.paid_at for order in sold)

    # The history's sales are dated as the payments were dated back, not all on the day made.
    shown = {sale.day for sale in stub_sold_prices(stub=on_sale[0].stub).recent}
    assert len(shown) > 1 and shown <= {timezone.localdate(order.snapshot.taken_at) for order in sold}

    page = client.get(f"/listings/{on_sale[0].pk}/").content.decode()
    assert 'class="panel sold-prices"' in page and f"<dt>Sold here</dt><dd>{SALES_PER_EVENT}</dd>" in page
