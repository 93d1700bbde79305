"""`manage.py release_expired_reservations`: lapsed checkouts cancelled, their intents too."""

import datetime
import json
from io import StringIO

import pytest
import stripe
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent, Order, OrderStatus
from payments.services.reservations import reservations_release_expired
from payments.tests.factories import sandbox_seller_onboarded, shipping_address

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(stripe_sandbox):
    return sandbox_seller_onboarded(stripe_sandbox)


def open_checkout(client, listing, buyer=None):
    client.force_login(buyer or UserFactory())
    response = client.post(
        "/payments/create-payment-intent/",
        data=json.dumps({"listing_id": listing.pk, **shipping_address()}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return Order.objects.get(pk=response.json()["order_id"])


def lapse(order, minutes=1):
    past = timezone.now() - datetime.timedelta(minutes=minutes)
    Order.objects.filter(pk=order.pk).update(reserved_until=past)
    Listing.objects.filter(pk=order.listing_id).update(reserved_until=past)


def intent(order):
    return stripe.PaymentIntent.retrieve(order.payment_intent_id, stripe_account=order.stripe_account_id)


def run_command() -> str:
    out = StringIO()
    call_command("release_expired_reservations", stdout=out)
    return out.getvalue()


def test_a_lapsed_checkout_is_cancelled_its_listing_freed_and_its_intent_cancelled(client, seller):
    order = open_checkout(client, ListingFactory(seller=seller))
    lapse(order)

    output = run_command()

    assert output.strip() == "Released 1 expired reservation."
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancelled_at is not None
    listing = Listing.objects.get(pk=order.listing_id)
    assert listing.status == ListingStatus.ACTIVE and listing.reserved_by is None
    assert intent(order).status == "canceled"
    audit = AuditEvent.objects.get(order=order, action="order.transition")
    assert (audit.from_status, audit.to_status) == ("pending_payment", "cancelled")


def test_a_checkout_still_within_its_hold_is_left_alone(client, seller):
    order = open_checkout(client, ListingFactory(seller=seller))

    assert reservations_release_expired() == 0

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert intent(order).status == "requires_payment_method"
    assert Listing.objects.get(pk=order.listing_id).status == ListingStatus.RESERVED


def test_running_it_twice_cancels_once(client, seller):
    order = open_checkout(client, ListingFactory(seller=seller))
    lapse(order)

    assert reservations_release_expired() == 1
    assert run_command().strip() == "Released 0 expired reservations."
    assert AuditEvent.objects.filter(order=order, action="order.transition").count() == 1
    assert AuditEvent.objects.filter(order=order, action="stripe.payment_intent.cancel").count() == 1


def test_a_payment_that_succeeded_is_not_cancelled_and_the_order_is_left_for_the_webhook(client, seller):
    order = open_checkout(client, ListingFactory(seller=seller))
    stripe.PaymentIntent.confirm(
        order.payment_intent_id, payment_method="pm_card_visa", stripe_account=seller.stripe_account_id
    )
    lapse(order)

    assert reservations_release_expired() == 0

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert intent(order).status == "succeeded"
    assert not AuditEvent.objects.filter(order=order, action="stripe.payment_intent.cancel").exists()


def test_a_declined_then_abandoned_checkout_is_cancelled(client, seller):
    order = open_checkout(client, ListingFactory(seller=seller))
    with pytest.raises(stripe.CardError):
        stripe.PaymentIntent.confirm(
            order.payment_intent_id,
            payment_method="pm_card_chargeDeclined",
            stripe_account=seller.stripe_account_id,
        )
    lapse(order)

    assert reservations_release_expired() == 1
    assert intent(order).status == "canceled"


def test_only_lapsed_orders_among_many_are_released(client, seller):
    lapsed = [open_checkout(client, ListingFactory(seller=seller)) for _ in range(3)]
    fresh = open_checkout(client, ListingFactory(seller=seller))
    for order in lapsed:
        lapse(order)

    assert reservations_release_expired() == 3

    assert set(Order.objects.filter(status=OrderStatus.CANCELLED)) == set(lapsed)
    fresh.refresh_from_db()
    assert fresh.status == OrderStatus.PENDING_PAYMENT


def test_stripe_being_down_leaves_the_order_for_the_next_run(client, seller, stripe_sandbox):
    order = open_checkout(client, ListingFactory(seller=seller))
    lapse(order)
    stripe_sandbox.fail_next("/v1/payment_intents", exception="timeout", times=3)

    assert reservations_release_expired() == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT

    stripe_sandbox.clear_faults()
    assert reservations_release_expired() == 1
    assert intent(order).status == "canceled"


def test_a_lapsed_listing_is_buyable_by_someone_else_before_the_sweep_runs(client, seller):
    """The hold lapses by itself; the sweep only tidies up."""
    listing = ListingFactory(seller=seller)
    first = open_checkout(client, listing)
    lapse(first)

    second = open_checkout(client, listing)

    assert second.pk != first.pk
    first.refresh_from_db()
    assert first.status == OrderStatus.CANCELLED


def test_the_buyer_coming_back_extends_the_hold_and_the_sweep_leaves_it(client, seller):
    listing = ListingFactory(seller=seller)
    buyer = UserFactory()
    order = open_checkout(client, listing, buyer)
    lapse(order)

    again = open_checkout(client, listing, buyer)

    assert again.pk == order.pk
    assert reservations_release_expired() == 0
    assert intent(order).status == "requires_payment_method"
