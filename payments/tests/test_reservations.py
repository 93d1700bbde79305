"""`manage.py release_expired_reservations`: lapsed checkouts cancelled, their intents too."""

from io import StringIO

import pytest
import stripe
from django.core.management import call_command

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent, Order, OrderStatus
from payments.services.reservations import reservations_release_expired
from payments.tests.checkout_support import checkout_lapse, checkout_order

pytestmark = pytest.mark.django_db


def intent(order):
    return stripe.PaymentIntent.retrieve(order.payment_intent_id, stripe_account=order.stripe_account_id)


def run_command() -> str:
    out = StringIO()
    call_command("release_expired_reservations", stdout=out)
    return out.getvalue()


def test_a_lapsed_checkout_is_cancelled_its_listing_freed_and_its_intent_cancelled(client, seller):
    order = checkout_order(client, ListingFactory(seller=seller).pk, buyer=UserFactory())
    checkout_lapse(order)

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
    order = checkout_order(client, ListingFactory(seller=seller).pk, buyer=UserFactory())

    assert reservations_release_expired() == 0

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert intent(order).status == "requires_payment_method"
    assert Listing.objects.get(pk=order.listing_id).status == ListingStatus.RESERVED


def test_running_it_twice_cancels_once(client, seller):
    order = checkout_order(client, ListingFactory(seller=seller).pk, buyer=UserFactory())
    checkout_lapse(order)

    assert reservations_release_expired() == 1
    assert run_command().strip() == "Released 0 expired reservations."
    assert AuditEvent.objects.filter(order=order, action="order.transition").count() == 1
    assert AuditEvent.objects.filter(order=order, action="stripe.payment_intent.cancel").count() == 1


def test_a_payment_that_succeeded_is_not_cancelled_and_the_order_is_left_for_the_webhook(client, seller):
    order = checkout_order(client, ListingFactory(seller=seller).pk, buyer=UserFactory())
    stripe.PaymentIntent.confirm(
        order.payment_intent_id, payment_method="pm_card_visa", stripe_account=seller.stripe_account_id
    )
    checkout_lapse(order)

    assert reservations_release_expired() == 0

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert intent(order).status == "succeeded"
    assert not AuditEvent.objects.filter(order=order, action="stripe.payment_intent.cancel").exists()


def test_a_declined_then_abandoned_checkout_is_cancelled(client, seller):
    order = checkout_order(client, ListingFactory(seller=seller).pk, buyer=UserFactory())
    with pytest.raises(stripe.CardError):
        stripe.PaymentIntent.confirm(
            order.payment_intent_id,
            payment_method="pm_card_chargeDeclined",
            stripe_account=seller.stripe_account_id,
        )
    checkout_lapse(order)

    assert reservations_release_expired() == 1
    assert intent(order).status == "canceled"


def test_only_lapsed_orders_among_many_are_released(client, seller):
    lapsed = [checkout_order(client, ListingFactory(seller=seller).pk, buyer=UserFactory()) for _ in range(3)]
    fresh = checkout_order(client, ListingFactory(seller=seller).pk, buyer=UserFactory())
    for order in lapsed:
        checkout_lapse(order)

    assert reservations_release_expired() == 3

    assert set(Order.objects.filter(status=OrderStatus.CANCELLED)) == set(lapsed)
    fresh.refresh_from_db()
    assert fresh.status == OrderStatus.PENDING_PAYMENT


def test_stripe_being_down_leaves_the_order_for_the_next_run(client, seller, stripe_sandbox):
    order = checkout_order(client, ListingFactory(seller=seller).pk, buyer=UserFactory())
    checkout_lapse(order)
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
    first = checkout_order(client, listing.pk, buyer=UserFactory())
    checkout_lapse(first)

    second = checkout_order(client, listing.pk, buyer=UserFactory())

    assert second.pk != first.pk
    first.refresh_from_db()
    assert first.status == OrderStatus.CANCELLED


def test_the_buyer_coming_back_extends_the_hold_and_the_sweep_leaves_it(client, seller):
    listing = ListingFactory(seller=seller)
    buyer = UserFactory()
    order = checkout_order(client, listing.pk, buyer=buyer)
    checkout_lapse(order)

    again = checkout_order(client, listing.pk, buyer=buyer)

    assert again.pk == order.pk
    assert reservations_release_expired() == 0
    assert intent(order).status == "requires_payment_method"
