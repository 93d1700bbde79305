"""A PaymentIntent takes money only for the order, amount and listing state
it was made for. A lapsed checkout's PaymentIntent is cancelled before the listing changes
(price edit, withdrawal, another buyer); a reused pending order is re-checked against the
listing's price; a success for an order that is no longer the listing's live one is refunded
in full, and both sides are told."""


import pytest
import stripe
from django.core import mail

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.services import ListingNotWithdrawable, PriceLocked, listing_update, listing_withdraw
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent, OrderStatus, PaymentStatus
from payments.services.checkout import PaymentBeingSettled
from payments.tests.checkout_support import checkout_lapse, checkout_order
from payments.tests.webhook_support import deliver, pay

pytestmark = pytest.mark.django_db


def intent_status(order):
    intent = stripe.PaymentIntent.retrieve(order.payment_intent_id, stripe_account=order.stripe_account_id)
    return intent.status


def paid(result) -> bool:
    return getattr(result, "status", None) == "succeeded"


def try_pay(order, payment_method="pm_card_visa"):
    """Confirm the old PaymentIntent directly, as an attacker with the publishable key would."""
    try:
        return pay(order, payment_method)
    except stripe.StripeError as error:
        return error


# -- the listing cannot change while a lapsed checkout could still pay ----------------------------


def test_a_price_edit_cancels_the_lapsed_checkouts_payment_intent_so_the_old_price_cannot_be_paid(
    client, seller
):
    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())
    checkout_lapse(order)

    listing_update(listing_id=listing.pk, seller=seller, price_cents=64000)

    assert intent_status(order) == "canceled"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert not paid(try_pay(order))  # the old $64 form is dead
    listing.refresh_from_db()
    assert listing.price_cents == 64000 and listing.effective_status() == ListingStatus.ACTIVE


def test_a_withdrawal_cancels_the_lapsed_checkouts_payment_intent_so_the_stub_cannot_be_bought(
    client, seller
):
    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())
    checkout_lapse(order)

    listing_withdraw(listing_id=listing.pk, seller=seller)

    assert intent_status(order) == "canceled"
    assert not paid(try_pay(order))
    order.refresh_from_db()
    listing.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and listing.status == ListingStatus.WITHDRAWN


def test_a_shipping_change_cancels_the_lapsed_checkouts_payment_intent_first(client, seller):
    from marketplace.shipping import listing_shipping_set

    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())
    checkout_lapse(order)

    listing_shipping_set(listing_id=listing.pk, seller=seller, shipping_cents=450)

    assert intent_status(order) == "canceled"
    assert not paid(try_pay(order))
    listing.refresh_from_db()
    assert listing.total_cents == 6850


def test_a_decline_within_the_hold_keeps_the_stub_held_for_another_card(client, seller, webhook_sandbox):
    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())
    pay(order, "pm_card_chargeDeclined")
    deliver(webhook_sandbox)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT

    with pytest.raises(ListingNotWithdrawable):
        listing_withdraw(listing_id=listing.pk, seller=seller)
    assert intent_status(order) == "requires_payment_method"


def test_a_declined_attempts_payment_intent_is_cancelled_before_a_withdrawal(client, seller, webhook_sandbox):
    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())
    checkout_lapse(order)  # declined after the hold lapsed: the order fails, the stub is free again
    pay(order, "pm_card_chargeDeclined")
    deliver(webhook_sandbox)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAYMENT_FAILED

    listing_withdraw(listing_id=listing.pk, seller=seller)

    assert intent_status(order) == "canceled"  # another card can no longer pay it
    assert not paid(try_pay(order))


def test_a_lapsed_checkout_that_already_paid_holds_the_listing_until_its_webhook_decides(client, seller):
    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())
    checkout_lapse(order)
    assert paid(pay(order))  # the success webhook has not arrived yet

    with pytest.raises(PaymentBeingSettled):
        listing_update(listing_id=listing.pk, seller=seller, price_cents=64000)
    with pytest.raises(PaymentBeingSettled):
        listing_withdraw(listing_id=listing.pk, seller=seller)

    listing.refresh_from_db()
    assert listing.price_cents == 6400 and listing.status == ListingStatus.RESERVED


def test_a_live_hold_still_freezes_the_price_and_blocks_a_withdrawal(client, seller):
    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())

    with pytest.raises(PriceLocked):
        listing_update(listing_id=listing.pk, seller=seller, price_cents=64000)
    with pytest.raises(ListingNotWithdrawable):
        listing_withdraw(listing_id=listing.pk, seller=seller)
    assert intent_status(order) == "requires_payment_method"


def test_editing_only_the_description_does_not_touch_a_lapsed_checkout(client, seller):
    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())
    checkout_lapse(order)

    listing_update(listing_id=listing.pk, seller=seller, price_cents=6400, description="Creased corner")

    assert intent_status(order) == "requires_payment_method"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_another_buyers_checkout_cancels_the_lapsed_holders_payment_intent_first(client, seller):
    listing = ListingFactory(seller=seller, price_cents=6400)
    first = checkout_order(client, listing.pk, buyer=UserFactory())
    checkout_lapse(first)

    second = checkout_order(client, listing.pk, buyer=UserFactory())

    assert intent_status(first) == "canceled"
    assert not paid(try_pay(first))
    first.refresh_from_db()
    assert first.status == OrderStatus.CANCELLED
    assert second.status == OrderStatus.PENDING_PAYMENT


# -- a reused pending order is re-checked against the price --------------------------------------


def test_a_reused_pending_order_at_an_old_price_is_superseded_by_a_new_order_and_payment_intent(
    client, seller, committed
):
    buyer = UserFactory()
    listing = ListingFactory(seller=seller, price_cents=6400)
    old = checkout_order(client, listing.pk, buyer=buyer)
    checkout_lapse(old)
    Listing.objects.filter(pk=listing.pk).update(price_cents=64000)  # however the price moved

    with committed():
        new = checkout_order(client, listing.pk, buyer=buyer)

    assert new.pk != old.pk
    assert new.amount_cents == 64000 and new.payment_intent_id != old.payment_intent_id
    assert stripe.PaymentIntent.retrieve(
        new.payment_intent_id, stripe_account=seller.stripe_account_id
    ).amount == 64000
    old.refresh_from_db()
    assert old.status == OrderStatus.CANCELLED
    assert intent_status(old) == "canceled"


def test_a_reused_pending_order_at_the_same_price_keeps_its_payment_intent(client, seller):
    buyer = UserFactory()
    listing = ListingFactory(seller=seller, price_cents=6400)
    first = checkout_order(client, listing.pk, buyer=buyer)

    again = checkout_order(client, listing.pk, buyer=buyer)

    assert again.pk == first.pk and again.payment_intent_id == first.payment_intent_id


# -- a success for an order that is no longer the live one is refunded ---------------------------


def _assert_refunded_in_full(sandbox, order):
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    charge = sandbox.get(order.payment.charge_id)
    assert charge["amount_refunded"] == order.amount_cents
    assert order.payment.status == PaymentStatus.REFUNDED
    assert AuditEvent.objects.filter(order=order, action="order.late_payment_refunded").count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([order.buyer.email, order.seller.email])


def test_a_success_for_a_pending_order_whose_stub_was_withdrawn_is_refunded_in_full(
    client, seller, webhook_sandbox, committed
):
    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory(email="buyer@example.com"))
    checkout_lapse(order)
    # The PaymentIntent slipped through (say Stripe could not be reached to cancel it).
    Listing.objects.filter(pk=listing.pk).update(
        status=ListingStatus.WITHDRAWN, reserved_by=None, reserved_until=None
    )
    assert paid(pay(order))

    with committed():
        deliver(webhook_sandbox)

    _assert_refunded_in_full(webhook_sandbox, order)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.WITHDRAWN  # never sold


def test_a_success_for_a_pending_order_at_a_stale_price_is_refunded_in_full(
    client, seller, webhook_sandbox, committed
):
    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory(email="buyer@example.com"))
    checkout_lapse(order)
    Listing.objects.filter(pk=listing.pk).update(price_cents=64000)
    assert paid(pay(order))

    with committed():
        deliver(webhook_sandbox)

    _assert_refunded_in_full(webhook_sandbox, order)
    listing.refresh_from_db()
    assert listing.effective_status() == ListingStatus.ACTIVE and listing.price_cents == 64000


def test_a_success_for_the_live_order_at_its_price_is_honoured(client, seller, webhook_sandbox):
    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())
    assert paid(pay(order))

    deliver(webhook_sandbox)

    order.refresh_from_db()
    listing.refresh_from_db()
    assert order.status == OrderStatus.PAID and listing.status == ListingStatus.SOLD


# -- the seller's pages say so, never a 500 -------------------------------------------------------


def test_the_edit_and_withdraw_pages_answer_409_while_a_late_payment_is_settled(client, seller):
    from marketplace.tests.test_listing_edit import listing_form_data

    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())
    checkout_lapse(order)
    assert paid(pay(order))
    client.force_login(seller)

    edit = client.post(f"/listings/{listing.pk}/edit/", listing_form_data(price="640.00"))
    withdraw = client.post(f"/listings/{listing.pk}/withdraw/")

    assert (edit.status_code, withdraw.status_code) == (409, 409)
    assert "being settled" in edit.content.decode()
    listing.refresh_from_db()
    assert listing.price_cents == 6400 and listing.status == ListingStatus.RESERVED


def test_the_edit_page_reprices_after_cancelling_a_lapsed_checkout(client, seller):
    from marketplace.tests.test_listing_edit import listing_form_data

    listing = ListingFactory(seller=seller, price_cents=6400)
    order = checkout_order(client, listing.pk, buyer=UserFactory())
    checkout_lapse(order)
    client.force_login(seller)

    response = client.post(f"/listings/{listing.pk}/edit/", listing_form_data(price="640.00"))

    assert response.status_code == 302
    assert intent_status(order) == "canceled"
    listing.refresh_from_db()
    assert listing.price_cents == 64000
