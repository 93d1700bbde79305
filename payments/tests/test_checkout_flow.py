"""The buyer's whole journey on the server side: checkout route → card → signed webhook → paid.

Stripe.js's part (confirming the PaymentIntent) is done with the SDK, as the browser would;
everything else goes through our real routes, including the signed webhook deliveries the
sandbox sends to /payments/webhook/connect/ (payments/views/webhooks.py).
"""

import datetime

import pytest
import stripe
from django.core import mail

from accounts.tests.factories import UserFactory
from marketplace.models import ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus
from payments.tests.checkout_support import checkout_open
from payments.tests.factories import sandbox_seller_onboarded

pytestmark = pytest.mark.django_db


def checkout_declined(client, listing, deliver_all) -> tuple[dict, Order]:
    """A checkout whose first card was declined, the decline's webhook delivered: the route's
    answer and the order."""
    first = checkout_open(client, listing.pk)
    first_order = Order.objects.get(pk=first["order_id"])
    with pytest.raises(stripe.CardError):
        stripe.PaymentIntent.confirm(
            first_order.payment_intent_id,
            payment_method="pm_card_chargeDeclined",
            stripe_account=first["stripe_account"],
        )
    deliver_all()
    return first, first_order


def test_a_buyer_checks_out_pays_and_the_webhook_marks_the_order_paid_and_sold(
    client, webhook_sandbox, deliver_all
):
    seller = sandbox_seller_onboarded(webhook_sandbox, email="seller@example.com")
    listing = ListingFactory(seller=seller, price_cents=2500)
    buyer = UserFactory(email="buyer@example.com")
    client.force_login(buyer)

    data = checkout_open(client, listing.pk)
    stripe.PaymentIntent.confirm(
        Order.objects.get(pk=data["order_id"]).payment_intent_id,
        payment_method="pm_card_visa",
        stripe_account=data["stripe_account"],
    )
    deliver_all()

    order = Order.objects.get(pk=data["order_id"])
    assert order.status == OrderStatus.PAID
    assert order.listing.status == ListingStatus.SOLD
    assert order.payment.amount_cents == 2500 and order.payment.application_fee_cents == 250
    assert {m.to[0] for m in mail.outbox} == {"buyer@example.com", "seller@example.com"}
    status = client.get(f"/payments/orders/{order.pk}/status/").json()
    assert status["status"] == "paid" and status["paid"] is True
    page = client.get(f"/orders/{order.pk}/?checkout=1")
    assert "Payment received" in page.content.decode()
    # the seller's sales show it
    client.force_login(seller)
    assert list(client.get("/orders/").context["sales"].object_list) == [order]


def test_after_a_declined_card_the_buyer_pays_again_on_the_same_order_and_payment_intent(
    client, webhook_sandbox, deliver_all, django_capture_on_commit_callbacks
):
    seller = sandbox_seller_onboarded(webhook_sandbox)
    listing = ListingFactory(seller=seller)
    buyer = UserFactory()
    client.force_login(buyer)
    first, first_order = checkout_declined(client, listing, deliver_all)

    with django_capture_on_commit_callbacks(execute=True):
        second = checkout_open(client, listing.pk)  # a reload of the checkout, or "Change the address"
    assert (second["order_id"], second["client_secret"]) == (first["order_id"], first["client_secret"])
    stripe.PaymentIntent.confirm(
        first_order.payment_intent_id, payment_method="pm_card_visa", stripe_account=first["stripe_account"]
    )
    deliver_all()

    order = Order.objects.get(buyer=buyer)  # one purchase, one order number
    assert order.pk == first["order_id"] and order.status == OrderStatus.PAID
    assert order.payment_failures == 1 and order.payment.payment_intent_id == first_order.payment_intent_id
    assert order.listing.status == ListingStatus.SOLD
    assert list(client.get("/orders/").context["purchases"].object_list) == [order]
    purchases = client.get("/marketplace/my-orders/").json()["purchases"]
    assert [item["id"] for item in purchases] == [order.pk]


def test_a_decline_then_a_lapsed_hold_ends_the_order_and_a_new_checkout_opens_a_new_one(
    client, webhook_sandbox, deliver_all, django_capture_on_commit_callbacks
):
    from payments.services.reservations import reservations_release_expired

    listing = ListingFactory(seller=sandbox_seller_onboarded(webhook_sandbox))
    buyer = UserFactory()
    client.force_login(buyer)
    first, first_order = checkout_declined(client, listing, deliver_all)

    assert reservations_release_expired(now=first_order.reserved_until + datetime.timedelta(seconds=1)) == 1
    first_order.refresh_from_db()
    assert first_order.status == OrderStatus.CANCELLED
    old = stripe.PaymentIntent.retrieve(first_order.payment_intent_id, stripe_account=first["stripe_account"])
    assert old.status == "canceled"  # the old card form can no longer pay
    with django_capture_on_commit_callbacks(execute=True):
        second = checkout_open(client, listing.pk)

    assert second["order_id"] != first["order_id"]
    # Neither attempt took money: the buyer has no orders to see, staff see both in admin.
    assert list(client.get("/orders/").context["purchases"].object_list) == []
    assert Order.objects.filter(buyer=buyer).count() == 2
