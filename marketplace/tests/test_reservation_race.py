"""Buyers racing for one listing on PostgreSQL, where select_for_update really locks (skipped on SQLite)."""

import threading

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.services import ListingUnavailable, listing_reserve
from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.postgres

RACERS = 8


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; this database is " + connection.vendor)


def test_buyers_racing_for_one_listing_leave_exactly_one_reservation(transactional_db):
    listing = ListingFactory()
    buyers = UserFactory.create_batch(RACERS)
    start = threading.Barrier(RACERS)
    won, refused, failed = [], [], []

    def race(buyer):
        from django.db import connection as thread_connection

        try:
            start.wait(timeout=10)
            listing_reserve(listing_id=listing.pk, buyer=buyer)
            won.append(buyer.pk)
        except ListingUnavailable as error:
            refused.append(error.reason)
        except Exception as error:  # noqa: BLE001 - reported below, a thread cannot raise into the test
            failed.append(repr(error))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=race, args=(buyer,)) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

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
    start = threading.Barrier(RACERS)
    won, refused, failed = [], [], []

    def race(listing):
        from django.db import connection as thread_connection

        try:
            start.wait(timeout=10)
            listing_reserve(listing_id=listing.pk, buyer=buyer)
            won.append(listing.pk)
        except TooManyHolds:
            refused.append(listing.pk)
        except Exception as error:  # noqa: BLE001 - reported below
            failed.append(repr(error))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=race, args=(listing,)) for listing in listings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failed == []
    assert len(won) == 2 and len(refused) == RACERS - 2
    assert Listing.objects.filter(reserved_by=buyer, status=ListingStatus.RESERVED).count() == 2
