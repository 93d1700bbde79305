"""One clean order history: a checkout that never took money (abandoned, declined, failed 3-D
Secure, a lapsed hold) is not an order to the buyer nor a sale to the seller, on every page and
route that lists them (Order.objects.placed); staff still see every attempt in admin."""

import datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus
from payments.selectors.dashboard import dashboard_sales, dashboard_sales_by_day
from payments.tests.factories import OrderFactory, PaidOrderFactory, PaymentFactory, sandbox_seller_onboarded

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(stripe_sandbox):
    """One buyer and one seller with every kind of checkout between them."""
    seller = sandbox_seller_onboarded(stripe_sandbox)
    buyer = UserFactory()

    def order(**fields):
        return OrderFactory(buyer=buyer, listing=ListingFactory(seller=seller), **fields)

    past = timezone.now() - datetime.timedelta(minutes=1)
    unpaid = [
        order(),  # open, the hold still running
        order(status=OrderStatus.PAYMENT_FAILED, reserved_until=past, payment_failures=2),
        order(status=OrderStatus.CANCELLED, reserved_until=past),  # the hold lapsed
    ]
    paid = PaidOrderFactory(buyer=buyer, listing=ListingFactory(seller=seller))
    # Older rows may lack paid_at; their status says they were paid.
    refunded = order(status=OrderStatus.REFUNDED, reserved_until=None)
    # Paid after the hold had lapsed and refunded at once: the buyer's money did move.
    late = PaymentFactory(order=order(status=OrderStatus.CANCELLED, reserved_until=past)).order
    return buyer, seller, {paid.pk, refunded.pk, late.pk}, unpaid


def test_only_checkouts_that_took_money_are_orders_on_the_buyers_and_sellers_lists(client, history):
    buyer, seller, placed, unpaid = history

    client.force_login(buyer)
    purchases = client.get("/orders/").context["purchases"].object_list
    client.force_login(seller)
    sales = client.get("/orders/").context["sales"].object_list

    assert {order.pk for order in purchases} == placed
    assert {order.pk for order in sales} == placed


def test_the_json_my_orders_agrees_with_the_order_pages(client, history):
    buyer, seller, placed, unpaid = history

    client.force_login(buyer)
    purchases = client.get("/marketplace/my-orders/").json()["purchases"]
    client.force_login(seller)
    sales = client.get("/marketplace/my-orders/").json()["sales"]

    assert {item["id"] for item in purchases} == placed
    assert {item["id"] for item in sales} == placed


def test_the_sellers_dashboard_and_chart_count_no_unpaid_checkout(client, history):
    buyer, seller, placed, unpaid = history

    client.force_login(seller)
    page = client.get("/dashboard/").content.decode()

    assert {order.pk for order in dashboard_sales(seller=seller)} == placed
    for order in unpaid:
        assert f"/orders/{order.pk}/" not in page
    # The chart sums money the seller has: of the placed orders, only the one still paid.
    assert sum(day.count for day in dashboard_sales_by_day(seller=seller)) == 1


def test_staff_see_every_attempt_in_admin(client, history):
    buyer, seller, placed, unpaid = history
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/admin/payments/order/")

    assert response.status_code == 200
    assert response.context["cl"].result_count == Order.objects.count() == 6
    declined = unpaid[1]
    page = client.get(f"/admin/payments/order/{declined.pk}/change/").content.decode()
    assert "Payment failures" in page


def test_the_rule_for_one_order_matches_the_rule_for_a_list(history):
    buyer, seller, placed, unpaid = history

    for order in Order.objects.all():
        assert order.was_placed is (order.pk in placed)


@pytest.mark.parametrize(
    "status", [OrderStatus.CANCELLED, OrderStatus.PAYMENT_FAILED, OrderStatus.PENDING_PAYMENT]
)
def test_an_unpaid_checkout_never_tells_the_buyer_they_paid(client, status):
    order = OrderFactory(status=status, amount_cents=5000)
    client.force_login(order.buyer)

    response = client.get(f"/orders/{order.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "You paid" not in html and "<dt>Total</dt>" in html


def test_a_lapsed_hold_says_nothing_was_charged(client):
    past = timezone.now() - datetime.timedelta(minutes=1)
    order = OrderFactory(status=OrderStatus.CANCELLED, reserved_until=past)
    client.force_login(order.buyer)

    html = client.get(f"/orders/{order.pk}/").content.decode()

    assert "nothing was charged" in html and "You paid" not in html


def test_a_paid_order_tells_the_buyer_what_they_paid_and_the_seller_the_total(client):
    order = PaymentFactory(order__amount_cents=5000).order

    client.force_login(order.buyer)
    assert "<dt>You paid</dt>" in client.get(f"/orders/{order.pk}/").content.decode()
    client.force_login(order.seller)
    assert "<dt>Total</dt>" in client.get(f"/orders/{order.pk}/").content.decode()


def test_a_stranger_cannot_see_an_unpaid_checkout_either(client):
    order = OrderFactory(status=OrderStatus.PAYMENT_FAILED)
    client.force_login(UserFactory())

    assert client.get(f"/orders/{order.pk}/").status_code == 404
