"""Buyers racing for one listing on PostgreSQL, where select_for_update really locks (skipped on SQLite)."""

import pytest

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.services import ListingUnavailable, listing_reserve
from marketplace.tests.factories import ListingFactory
from testing.threads import run_at_once

pytestmark = pytest.mark.postgres

RACERS = 8


def test_buyers_racing_for_one_listing_leave_exactly_one_reservation(transactional_db):
    listing = ListingFactory()
    buyers = UserFactory.create_batch(RACERS)
    def race(buyer):
        return lambda: listing_reserve(listing_id=listing.pk, buyer=buyer)

    outcomes = list(zip(buyers, run_at_once([race(buyer) for buyer in buyers]), strict=True))
    won = [buyer.pk for buyer, result in outcomes if not isinstance(result, Exception)]
    refused = [result.reason for _, result in outcomes if isinstance(result, ListingUnavailable)]
    failed = [repr(result) for _, result in outcomes
              if isinstance(result, Exception) and not isinstance(result, ListingUnavailable)]

    assert failed == []
    assert len(won) == 1
    assert refused == ["reserved"] * (RACERS - 1)
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.status == ListingStatus.RESERVED and listing.reserved_by_id == won[0]


def test_one_buyer_racing_for_many_listings_gets_no_more_than_the_cap(transactional_db, settings):
    """Each attempt locks a different listing row; the buyer row lock keeps the count honest."""
    from marketplace.services import TooManyHolds

    settings.MAX_ACTIVE_RESERVATIONS_PER_BUYER = 2
    buyer = UserFactory()
    listings = ListingFactory.create_batch(RACERS)
    def race(listing):
        return lambda: listing_reserve(listing_id=listing.pk, buyer=buyer)

    outcomes = list(zip(listings, run_at_once([race(listing) for listing in listings]), strict=True))
    won = [listing.pk for listing, result in outcomes if not isinstance(result, Exception)]
    refused = [listing.pk for listing, result in outcomes if isinstance(result, TooManyHolds)]
    failed = [repr(result) for _, result in outcomes
              if isinstance(result, Exception) and not isinstance(result, TooManyHolds)]

    assert failed == []
    assert len(won) == 2 and len(refused) == RACERS - 2
    assert Listing.objects.filter(reserved_by=buyer, status=ListingStatus.RESERVED).count() == 2
