"""Issue 9, finding 4: one buyer cannot hoard stubs. At most MAX_ACTIVE_RESERVATIONS_PER_BUYER
live holds at once, and a hold is extended at most once (to twice its length), through the
service and through the checkout route."""

import datetime
import json

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.services import HoldExhausted, TooManyHolds, listing_reserve, reservation_length
from marketplace.tests.factories import ListingFactory
from payments.tests.factories import sandbox_seller, shipping_address

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return UserFactory()


def test_a_buyer_holds_at_most_three_stubs_by_default(settings, buyer):
    assert settings.MAX_ACTIVE_RESERVATIONS_PER_BUYER == 3
    listings = ListingFactory.create_batch(4)
    for listing in listings[:3]:
        listing_reserve(listing_id=listing.pk, buyer=buyer)

    with pytest.raises(TooManyHolds) as refused:
        listing_reserve(listing_id=listings[3].pk, buyer=buyer)

    assert refused.value.status == 409 and refused.value.code == "too_many_holds"
    assert Listing.objects.get(pk=listings[3].pk).reserved_by is None


def test_the_cap_comes_from_the_setting(settings, buyer):
    settings.MAX_ACTIVE_RESERVATIONS_PER_BUYER = 1
    first, second = ListingFactory.create_batch(2)
    listing_reserve(listing_id=first.pk, buyer=buyer)
    with pytest.raises(TooManyHolds):
        listing_reserve(listing_id=second.pk, buyer=buyer)


def test_lapsed_holds_do_not_count_against_the_cap(settings, buyer):
    settings.MAX_ACTIVE_RESERVATIONS_PER_BUYER = 1
    first, second = ListingFactory.create_batch(2)
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    listing_reserve(listing_id=first.pk, buyer=buyer, now=an_hour_ago)

    listing_reserve(listing_id=second.pk, buyer=buyer)  # the first hold has lapsed


def test_reloading_a_held_stub_does_not_count_it_twice(settings, buyer):
    settings.MAX_ACTIVE_RESERVATIONS_PER_BUYER = 1
    listing = ListingFactory()
    listing_reserve(listing_id=listing.pk, buyer=buyer)
    listing_reserve(listing_id=listing.pk, buyer=buyer)


def test_other_buyers_holds_do_not_count(settings, buyer):
    settings.MAX_ACTIVE_RESERVATIONS_PER_BUYER = 1
    first, second = ListingFactory.create_batch(2)
    listing_reserve(listing_id=first.pk, buyer=UserFactory())
    listing_reserve(listing_id=second.pk, buyer=buyer)


def test_a_hold_is_extended_once_and_never_past_twice_its_length(buyer):
    listing = ListingFactory()
    start = timezone.now()
    length = reservation_length()
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=start)

    extended = listing_reserve(listing_id=listing.pk, buyer=buyer, now=start + length * 0.5)
    assert extended.reserved_until == start + length * 1.5
    extended = listing_reserve(listing_id=listing.pk, buyer=buyer, now=start + length * 1.4)
    assert extended.reserved_until == start + 2 * length  # capped, not 2.4 lengths

    with pytest.raises(HoldExhausted) as refused:
        listing_reserve(listing_id=listing.pk, buyer=buyer, now=start + 2 * length)
    assert refused.value.status == 409 and refused.value.reason == "hold_exhausted"


def test_re_posting_every_few_minutes_cannot_keep_a_stub_for_ever(buyer):
    listing = ListingFactory()
    start = timezone.now()
    held_until = []
    for minute in range(0, 120, 5):
        try:
            held_until.append(
                listing_reserve(listing_id=listing.pk, buyer=buyer,
                                now=start + datetime.timedelta(minutes=minute)).reserved_until
            )
        except HoldExhausted:
            break
    assert max(held_until) == start + 2 * reservation_length()


def test_once_released_the_stub_can_be_held_afresh(buyer):
    from marketplace.services import listing_release

    listing = ListingFactory()
    start = timezone.now()
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=start - 3 * reservation_length())
    listing_release(listing_id=listing.pk, buyer=buyer)  # the sweep gave it back to everyone

    held = listing_reserve(listing_id=listing.pk, buyer=buyer, now=start)

    assert held.reserved_at == start and held.reserved_until == start + reservation_length()
    assert held.status == ListingStatus.RESERVED


def test_the_checkout_route_answers_409_past_the_cap(client, settings, stripe_sandbox, buyer):
    settings.MAX_ACTIVE_RESERVATIONS_PER_BUYER = 2
    seller = sandbox_seller(stripe_sandbox)
    listings = ListingFactory.create_batch(3, seller=seller)
    client.force_login(buyer)

    def checkout(listing):
        return client.post(
            "/payments/create-payment-intent/",
            data=json.dumps({"listing_id": listing.pk, **shipping_address()}),
            content_type="application/json",
        )

    assert [checkout(listing).status_code for listing in listings[:2]] == [200, 200]
    response = checkout(listings[2])

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_many_holds"
    assert Listing.objects.get(pk=listings[2].pk).effective_status() == ListingStatus.ACTIVE
