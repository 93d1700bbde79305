"""Many buyers pressing Buy on the same stub at the same moment: exactly one order each.

PostgreSQL only (SQLite serialises writers, so there is no race to lose there). Each thread has
its own database connection and runs `checkout_order_open` (lock the listing, check, reserve,
create the order) behind a barrier, so they all arrive together. The PaymentIntents are made
afterwards for the winners: the race is about the row lock and the one-live-order constraint,
and Stripe is never called under the lock anyway.

This test fails when the `select_for_update` in `listing_reserve` and the
`order_one_live_order_per_listing` constraint are both removed (checked by hand: several
orders per listing).
"""

from collections import Counter

import pytest
import stripe

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.services import ListingUnavailable
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus
from payments.services.checkout import checkout_order_open, checkout_payment_intent
from payments.tests.factories import sandbox_seller_onboarded, shipping_address
from testing.threads import run_at_once

# Row locks: PostgreSQL only (the root conftest skips these elsewhere).
pytestmark = pytest.mark.postgres

BUYERS = 50
LISTINGS = 20


def race_for(listing_id, buyers) -> list:
    """Every buyer tries to open a checkout for the listing at once; returns what each got."""

    def attempt(buyer):
        def open_checkout():
            order, _ = checkout_order_open(listing_id=listing_id, buyer=buyer, shipping=shipping_address())
            return order.pk

        return open_checkout

    def outcome(result):
        if isinstance(result, ListingUnavailable):
            return ("refused", result.status)
        if isinstance(result, Exception):  # anything else would be a 500
            return ("error", repr(result))
        return ("order", result)

    return [outcome(result) for result in run_at_once([attempt(buyer) for buyer in buyers])]


def test_fifty_buyers_racing_for_each_of_twenty_listings_make_exactly_one_order_each(
    transactional_db, stripe_sandbox, settings
):
    settings.MAX_ACTIVE_RESERVATIONS_PER_BUYER = LISTINGS  # one buyer may win every race here
    seller = sandbox_seller_onboarded(stripe_sandbox)
    listings = ListingFactory.create_batch(LISTINGS, seller=seller)
    buyers = UserFactory.create_batch(BUYERS)

    for listing in listings:
        results = race_for(listing.pk, buyers)

        kinds = Counter(kind for kind, _ in results)
        assert kinds == {"order": 1, "refused": BUYERS - 1}, [r for r in results if r[0] == "error"][:3]
        assert {detail for kind, detail in results if kind == "refused"} == {409}

    for listing in listings:
        orders = list(Order.objects.filter(listing=listing))
        assert len(orders) == 1 and orders[0].status == OrderStatus.PENDING_PAYMENT
        held = Listing.objects.get(pk=listing.pk)
        assert held.status == ListingStatus.RESERVED and held.reserved_by_id == orders[0].buyer_id

    # then the winners' PaymentIntents: one per order on the seller's account
    for order in Order.objects.all():
        checkout_payment_intent(order=order, actor=order.buyer)
    intents = stripe.PaymentIntent.list(stripe_account=seller.stripe_account_id, limit=100).data
    assert len(intents) == LISTINGS
    assert sorted(int(i.metadata["order_id"]) for i in intents) == sorted(
        Order.objects.values_list("pk", flat=True)
    )
