"""Races on PostgreSQL, where select_for_update really locks (skipped on SQLite): two accepts on
one listing, an accept against a buyer's checkout, a counter accepted twice at once and a buyer's
offers sent at once past the cap each end with one winner, never two holders of one stub."""

import pytest

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.tests.factories import ListingFactory
from offers import services
from offers.models import Offer, OfferStatus
from payments.models import Order
from payments.services.checkout import checkout_order_open
from payments.tests.factories import shipping_address
from testing.threads import run_at_once

pytestmark = pytest.mark.postgres

ROUNDS = 3


def _offers(listing, *buyers):
    return [
        services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=4000 + n * 100)
        for n, buyer in enumerate(buyers)
    ]


def test_two_accepts_on_one_listing_at_once_hold_it_for_one_buyer(transactional_db, seller):
    for _ in range(ROUNDS):
        listing = ListingFactory(seller=seller, price_cents=5000, offers_enabled=True)
        offers = _offers(listing, UserFactory(), UserFactory())
        outcomes = run_at_once(
            [
                lambda offer=offer: services.offer_accept(
                    offer_id=offer.pk, user=seller, amount_cents=offer.amount_cents
                )
                for offer in offers
            ]
        )
        won = [o for o in outcomes if isinstance(o, Offer)]
        lost = [o for o in outcomes if isinstance(o, Exception)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert isinstance(lost[0], services.ListingHeld), repr(lost[0])
        listing.refresh_from_db()
        assert (listing.status, listing.reserved_by_id) == (ListingStatus.RESERVED, won[0].buyer_id)
        assert Offer.objects.filter(listing=listing, status=OfferStatus.ACCEPTED).count() == 1
        assert Offer.objects.filter(listing=listing, status=OfferStatus.PENDING).count() == 1


def test_an_accept_and_a_purchase_at_once_end_with_one_buyer(transactional_db, seller):
    outcomes_seen = set()
    for _ in range(ROUNDS * 2):
        listing = ListingFactory(seller=seller, price_cents=5000, offers_enabled=True)
        (offer,) = _offers(listing, UserFactory())
        shopper = UserFactory()
        accept, purchase = run_at_once(
            [
                lambda offer=offer: services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4000),
                lambda listing=listing, shopper=shopper: checkout_order_open(
                    listing_id=listing.pk, buyer=shopper, shipping=shipping_address()
                ),
            ]
        )
        listing.refresh_from_db()
        offer.refresh_from_db()
        orders = Order.objects.filter(listing=listing)
        if isinstance(accept, Offer):
            assert isinstance(purchase, Exception) and not orders.exists(), (accept, purchase)
            assert listing.reserved_by_id == offer.buyer_id and offer.status == OfferStatus.ACCEPTED
            outcomes_seen.add("offer")
        else:
            assert isinstance(accept, services.ListingHeld), repr(accept)
            assert isinstance(purchase, tuple) and orders.count() == 1, purchase
            assert listing.reserved_by_id == shopper.pk and offer.status == OfferStatus.PENDING
            outcomes_seen.add("purchase")
        assert Listing.objects.filter(pk=listing.pk, status=ListingStatus.RESERVED).count() == 1
    assert outcomes_seen  # whichever won, one buyer holds the stub


def test_a_counter_accepted_twice_at_once_is_accepted_once(transactional_db, seller, buyer, listing):
    (offer,) = _offers(listing, buyer)
    services.offer_counter(offer_id=offer.pk, seller=seller, amount_cents=4500)
    outcomes = run_at_once(
        [lambda: services.offer_accept(offer_id=offer.pk, user=buyer, amount_cents=4500) for _ in range(4)]
    )
    assert all(isinstance(o, Offer) for o in outcomes), outcomes
    assert sum(1 for o in outcomes if not o.duplicate) <= 1
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED and offer.agreed_cents == 4500


def test_offers_sent_at_once_never_pass_the_open_offer_cap(transactional_db, seller, buyer):
    listings = [ListingFactory(seller=seller, price_cents=5000, offers_enabled=True) for _ in range(5)]
    run_at_once(
        [
            lambda listing=listing: services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=4000)
            for listing in listings
        ]
    )
    assert Offer.objects.filter(buyer=buyer, status=OfferStatus.PENDING).count() == 3
