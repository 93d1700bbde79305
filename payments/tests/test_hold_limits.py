"""One buyer cannot hoard stubs. At most MAX_ACTIVE_RESERVATIONS_PER_BUYER
live holds at once, and a hold is extended at most once (to twice its length), through the
service and through the checkout route."""

import datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.services import HoldExhausted, TooManyHolds, listing_reserve, reservation_length
from marketplace.tests.factories import ListingFactory
from payments.tests.checkout_support import checkout_post
from payments.tests.factories import sandbox_seller_onboarded

pytestmark = pytest.mark.django_db


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
    seller = sandbox_seller_onboarded(stripe_sandbox)
    listings = ListingFactory.create_batch(3, seller=seller)
    client.force_login(buyer)

    assert [checkout_post(client, listing.pk).status_code for listing in listings[:2]] == [200, 200]
    response = checkout_post(client, listings[2].pk)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_many_holds"
    assert Listing.objects.get(pk=listings[2].pk).effective_status() == ListingStatus.ACTIVE


def a_minute_past_a_hold():
    """A hold started then lapsed a minute ago."""
    return timezone.now() - reservation_length() - datetime.timedelta(minutes=1)


def test_a_buyer_cannot_re_take_a_stub_the_sweep_just_freed_from_their_exhausted_hold(settings, buyer):
    from marketplace.services import HoldCoolingDown, listing_release

    settings.HOLD_COOLDOWN_MINUTES = 15
    listing = ListingFactory()
    length = reservation_length()
    start = timezone.now() - 2 * length - datetime.timedelta(minutes=1)
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=start)
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=start + length)  # extended to 2 lengths
    listing_release(listing_id=listing.pk, buyer=buyer)  # the sweep, a minute after it ran out

    with pytest.raises(HoldCoolingDown) as refused:
        listing_reserve(listing_id=listing.pk, buyer=buyer)

    assert refused.value.status == 409 and refused.value.reason == "hold_cooldown"
    assert "14 minutes" in refused.value.message
    listing_reserve(listing_id=listing.pk, buyer=UserFactory())  # everyone else may hold it


def test_the_cooldown_ends_after_its_minutes(settings, buyer):
    from marketplace.services import listing_release

    settings.HOLD_COOLDOWN_MINUTES = 15
    listing = ListingFactory()
    lapsed = timezone.now() - datetime.timedelta(minutes=1)
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=lapsed - reservation_length())
    listing_release(listing_id=listing.pk, buyer=buyer)

    held = listing_reserve(listing_id=listing.pk, buyer=buyer, now=lapsed + datetime.timedelta(minutes=15))

    assert held.reserved_by == buyer


def test_a_buyer_who_lets_go_before_the_hold_runs_out_may_hold_again(settings, buyer):
    from marketplace.services import listing_release

    settings.HOLD_COOLDOWN_MINUTES = 15
    listing = ListingFactory()
    listing_reserve(listing_id=listing.pk, buyer=buyer)
    listing_release(listing_id=listing.pk, buyer=buyer)  # a failed card, a new checkout

    assert listing_reserve(listing_id=listing.pk, buyer=buyer).reserved_by == buyer


def test_taking_over_a_lapsed_hold_starts_the_old_holders_cooldown(settings, buyer):
    from marketplace.services import HoldCoolingDown, listing_release

    settings.HOLD_COOLDOWN_MINUTES = 15
    listing = ListingFactory()
    other = UserFactory()
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=a_minute_past_a_hold())
    listing_reserve(listing_id=listing.pk, buyer=other)  # the hold had lapsed: taken over
    listing_release(listing_id=listing.pk, buyer=other)

    with pytest.raises(HoldCoolingDown):
        listing_reserve(listing_id=listing.pk, buyer=buyer)


def test_the_checkout_route_says_when_the_stub_can_be_held_again(client, settings, stripe_sandbox, buyer):
    from marketplace.services import listing_release

    settings.HOLD_COOLDOWN_MINUTES = 15
    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox))
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=a_minute_past_a_hold())
    listing_release(listing_id=listing.pk, buyer=buyer)

    response = checkout_post(client, listing.pk, buyer=buyer)

    assert response.status_code == 409
    assert "hold it again in" in response.json()["error"]["message"]
