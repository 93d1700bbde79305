"""test_stale_checkout.py's rule on PostgreSQL: a seller repricing or withdrawing a stub, a new buyer
checking out and the lapsed holder paying, all at the same moment. Whatever wins, no
PaymentIntent is left able to take money at a price the listing no longer asks, and a stub
withdrawn or repriced under a late payment is never sold on it."""


import pytest
import stripe

from accounts.tests.factories import UserFactory
from core.errors import DomainError
from marketplace.models import Listing, ListingStatus
from marketplace.services import listing_update, listing_withdraw
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus
from payments.services.checkout import checkout_start
from payments.tests.checkout_support import checkout_lapse
from payments.tests.factories import sandbox_seller_onboarded, shipping_address
from testing.threads import run_at_once

pytestmark = pytest.mark.postgres

ROUNDS = 6
PAYABLE = {"requires_payment_method", "requires_confirmation", "requires_action"}


def run_together(*actions):
    """Run each action on its own thread and connection, released together."""

    def outcome(result):
        if isinstance(result, DomainError):
            return ("refused", result.code)
        if isinstance(result, Exception):  # a 500 in real life; reported by the test
            return ("error", repr(result))
        return ("ok", result)

    return [outcome(result) for result in run_at_once(list(actions))]


def lapsed_checkout(listing):
    buyer = UserFactory()
    checkout = checkout_start(listing_id=listing.pk, buyer=buyer, shipping=shipping_address())
    checkout_lapse(checkout.order)
    return Order.objects.get(pk=checkout.order.pk)


def payable_intents_at_a_stale_price(listing):
    listing = Listing.objects.get(pk=listing.pk)
    stale = []
    for order in Order.objects.filter(listing=listing).exclude(payment_intent_id=""):
        intent = stripe.PaymentIntent.retrieve(
            order.payment_intent_id, stripe_account=order.stripe_account_id
        )
        if intent.status in PAYABLE and (
            intent.amount != listing.total_cents or listing.status == ListingStatus.WITHDRAWN
        ):
            stale.append((order.pk, intent.amount, listing.total_cents, listing.status))
    return stale


def test_a_reprice_racing_a_new_buyers_checkout_leaves_no_payable_intent_at_the_old_price(
    transactional_db, stripe_sandbox
):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    for _ in range(ROUNDS):
        listing = ListingFactory(seller=seller, price_cents=6400)
        lapsed = lapsed_checkout(listing)
        newcomer = UserFactory()

        outcomes = run_together(
            lambda listing=listing: listing_update(listing_id=listing.pk, seller=seller, price_cents=64000),
            lambda listing=listing, newcomer=newcomer: checkout_start(
                listing_id=listing.pk, buyer=newcomer, shipping=shipping_address()),
        )

        assert [kind for kind, _ in outcomes if kind == "error"] == [], outcomes
        assert payable_intents_at_a_stale_price(listing) == []
        intent = stripe.PaymentIntent.retrieve(
            lapsed.payment_intent_id, stripe_account=seller.stripe_account_id
        )
        assert intent.status == "canceled"
        lapsed.refresh_from_db()
        assert lapsed.status == OrderStatus.CANCELLED
        live = Order.objects.filter(listing=listing, status=OrderStatus.PENDING_PAYMENT)
        assert all(order.amount_cents == Listing.objects.get(pk=listing.pk).total_cents for order in live)


def race_a_change_against_the_lapsed_holder_paying(stripe_sandbox, change):
    """Round after round: a lapsed checkout's buyer confirms its old PaymentIntent while the
    seller makes `change(listing, seller)`. Yields (listing, change outcome, payment outcome)."""
    seller = sandbox_seller_onboarded(stripe_sandbox)
    for _ in range(ROUNDS):
        listing = ListingFactory(seller=seller, price_cents=6400)
        lapsed = lapsed_checkout(listing)

        def pay(lapsed=lapsed):
            return stripe.PaymentIntent.confirm(
                lapsed.payment_intent_id, payment_method="pm_card_visa",
                stripe_account=seller.stripe_account_id,
            ).status

        changed, paid = run_together(lambda listing=listing: change(listing, seller), pay)
        listing.refresh_from_db()
        assert changed[0] in ("ok", "refused"), (changed, paid)
        if changed[0] == "ok":
            # The PaymentIntent was cancelled first: the payment could not go through.
            assert paid[0] == "error" or paid[1] != "succeeded", (changed, paid)
        else:
            # The money arrived first: the change waits for the webhook to decide.
            assert changed[1] == "payment_being_settled", (changed, paid)
            assert listing.status == ListingStatus.RESERVED and listing.price_cents == 6400
        yield listing, changed


def test_a_withdrawal_racing_the_lapsed_holder_paying_never_sells_the_withdrawn_stub(
    transactional_db, stripe_sandbox
):
    def withdraw(listing, seller):
        return listing_withdraw(listing_id=listing.pk, seller=seller)

    for listing, changed in race_a_change_against_the_lapsed_holder_paying(stripe_sandbox, withdraw):
        if changed[0] == "ok":
            assert listing.status == ListingStatus.WITHDRAWN


def test_a_reprice_racing_the_lapsed_holder_paying_never_takes_the_old_price_for_the_new(
    transactional_db, stripe_sandbox
):
    def reprice(listing, seller):
        return listing_update(listing_id=listing.pk, seller=seller, price_cents=64000)

    for listing, changed in race_a_change_against_the_lapsed_holder_paying(stripe_sandbox, reprice):
        if changed[0] == "ok":
            assert listing.price_cents == 64000
