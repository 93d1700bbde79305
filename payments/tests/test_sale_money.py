"""What each sale nets the seller (payments.selectors.money): refunds, the platform fee and its
floor, and who pays Stripe's fees; why a balance is below zero; the sale email's price lines as
the checkout showed them. What disputes take: disputes/tests/test_dispute_money.py."""

import re

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus
from payments.selectors.money import sale_money, sales_with_money, seller_balance_explanation
from payments.services.notifications import notify_order_paid
from payments.tests.factories import OrderFactory, PaidOrderFactory, PaymentFactory
from payments.tests.webhook_support import (
    deliver,
    pay,
    sandbox_order,
    sandbox_seller_onboarded,
)

pytestmark = pytest.mark.django_db

DAY = 86400


def paid_in_sandbox(sandbox, *, card="pm_card_visa", price_cents=5000) -> Order:
    seller = sandbox_seller_onboarded(sandbox, email="seller@example.com")
    order = sandbox_order(sandbox, seller=seller, price_cents=price_cents)
    pay(order, card)
    deliver(sandbox)
    # Past the 2-day payout delay, inside a dispute's answer window: a refund goes through at once.
    sandbox.advance_time(3 * DAY)
    deliver(sandbox)
    return Order.objects.get(pk=order.pk)


def lines(money) -> dict[str, str]:
    return {line.label: line.amount for line in money.lines}


def test_a_plain_sale_nets_the_amount_less_the_platform_fee_and_stripes_fee_is_the_platforms():
    order = PaymentFactory(order__listing__price_cents=5000).order

    money = sale_money(order=order)

    assert money.net == "$45.00"
    assert lines(money) == {
        "Platform fee": "-$5.00",
        "Stripe's card fee, paid by Stub Collector, not you": "$1.75",
    }


def test_below_the_floor_the_platform_fee_is_stripes_card_fee_and_says_so():
    order = PaymentFactory(order__listing__price_cents=300).order

    money = sale_money(order=order)

    assert money.net == "$2.61"
    assert lines(money)["Platform fee, the minimum: Stripe's card fee on this sale"] == "-$0.39"


def test_a_partial_refund_takes_the_refund_and_gives_back_its_share_of_the_fee(client, webhook_sandbox):
    order = paid_in_sandbox(webhook_sandbox)
    client.force_login(order.seller)

    response = client.post(f"/payments/orders/{order.pk}/refund/", {"amount": 2000},
                           content_type="application/json")
    deliver(webhook_sandbox)

    assert response.status_code in (200, 201), response.content
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    money = sale_money(order=order)
    assert lines(money)["Refunded to the buyer"] == "-$20.00"
    assert lines(money)["Platform fee given back with the refund"] == "$2.00"
    assert money.net == "$27.00"  # 50.00 - 5.00 - 20.00 + 2.00


def test_an_order_not_paid_has_no_figures():
    assert sale_money(order=OrderFactory()) is None


def test_a_list_of_sales_gets_its_figures_in_a_constant_number_of_queries(django_assert_num_queries):
    seller = PaymentFactory().order.seller
    PaymentFactory.create_batch(5, order__listing__seller=seller)
    orders = list(Order.objects.filter(seller=seller))

    with django_assert_num_queries(3):
        sales_with_money(orders=orders)

    assert {order.money.net for order in orders} == {sale_money(order=orders[0]).net}


def test_a_negative_available_balance_covered_by_pending_sales_says_they_cover_it():
    seller = PaidOrderFactory().seller
    seller.stripe_balance_available_cents, seller.stripe_balance_cents = -1000, 2500

    said = seller_balance_explanation(seller=seller)

    assert "Your sales still pending cover it" in said
    assert seller_balance_explanation(seller=PaidOrderFactory().seller) == ""


def test_the_sale_email_shows_price_shipping_and_total_as_the_checkout_did(client, settings):
    listing = ListingFactory(price_cents=7050, shipping_cents=400, seller__email="seller@example.com")
    client.force_login(UserFactory())
    page = client.get(f"/checkout/{listing.pk}/").content.decode()
    checkout = {name: re.search(rf'id="checkout-{name}">([^<]+)<', page).group(1)
                for name in ("price", "shipping", "total")}
    order = PaidOrderFactory(listing=listing, amount_cents=7450, shipping_cents=400)

    notify_order_paid(order=order)

    [sale_notice] = [m for m in mail.outbox if m.to == ["seller@example.com"]]
    assert checkout == {"price": "$70.50", "shipping": "$4.00", "total": "$74.50"}
    for label, name in (("Price", "price"), ("Shipping", "shipping"), ("Total", "total")):
        assert f"{label}: {checkout[name]}\n" in sale_notice.body
        assert f'<th align="left">{label}</th><td>{checkout[name]}</td>' in sale_notice.alternatives[0][0]


def test_free_shipping_reads_free_in_the_sale_email_as_at_checkout():
    order = PaidOrderFactory(listing__price_cents=5000, listing__seller__email="seller@example.com")

    notify_order_paid(order=order)

    [sale_notice] = [m for m in mail.outbox if m.to == ["seller@example.com"]]
    assert "Price: $50.00\nShipping: Free\nTotal: $50.00\n" in sale_notice.body
