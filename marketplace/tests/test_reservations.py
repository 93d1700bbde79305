from datetime import timedelta

import pytest

from accounts.tests.factories import UserFactory
from marketplace.models import ListingStatus
from marketplace.services import (
    ListingNotFound,
    ListingNotWithdrawable,
    ListingUnavailable,
    LoginRequired,
    listing_mark_sold,
    listing_release,
    listing_relist,
    listing_reserve,
    listing_return_to_sale,
    listing_withdraw,
)
from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def test_reserving_holds_the_listing_for_the_configured_minutes(settings, listing, buyer, now):
    settings.LISTING_RESERVATION_MINUTES = 15
    reserved = listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    listing.refresh_from_db()
    assert reserved.status == listing.status == ListingStatus.RESERVED
    assert listing.reserved_by == buyer
    assert listing.reserved_until == now + timedelta(minutes=15)


def test_the_same_buyer_reserving_twice_extends_the_hold(listing, buyer, now):
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    later = now + timedelta(minutes=3)
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=later)
    listing.refresh_from_db()
    assert listing.reserved_by == buyer
    assert listing.reserved_until > now + timedelta(minutes=3)


def test_another_buyer_cannot_reserve_a_held_listing(listing, buyer, now):
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    with pytest.raises(ListingUnavailable) as error:
        listing_reserve(listing_id=listing.pk, buyer=UserFactory(), now=now + timedelta(minutes=1))
    assert error.value.status == 409
    assert error.value.code == "listing_unavailable"
    assert error.value.reason == "reserved"
    assert "Another buyer" in error.value.message
    listing.refresh_from_db()
    assert listing.reserved_by == buyer


def test_another_buyer_takes_over_a_lapsed_reservation(settings, listing, buyer, now):
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    second = UserFactory()
    later = now + timedelta(minutes=settings.LISTING_RESERVATION_MINUTES, seconds=1)
    listing_reserve(listing_id=listing.pk, buyer=second, now=later)
    listing.refresh_from_db()
    assert listing.reserved_by == second


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (ListingStatus.SOLD, "sold"),
        (ListingStatus.WITHDRAWN, "withdrawn"),
        (ListingStatus.DRAFT, "not_active"),
    ],
)
def test_a_listing_off_sale_cannot_be_reserved(buyer, now, status, reason):
    listing = ListingFactory(status=status)
    with pytest.raises(ListingUnavailable) as error:
        listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    assert error.value.reason == reason


def test_the_seller_cannot_reserve_their_own_listing(listing, now):
    with pytest.raises(ListingUnavailable) as error:
        listing_reserve(listing_id=listing.pk, buyer=listing.seller, now=now)
    assert error.value.reason == "own_listing"


def test_reserving_needs_a_logged_in_buyer(listing):
    with pytest.raises(LoginRequired):
        listing_reserve(listing_id=listing.pk, buyer=None)


def test_reserving_an_unknown_listing_is_not_found(buyer):
    with pytest.raises(ListingNotFound):
        listing_reserve(listing_id=999_999, buyer=buyer)


def test_releasing_puts_the_listing_back_on_sale(listing, buyer, now):
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    released = listing_release(listing_id=listing.pk, buyer=buyer)
    assert released.status == ListingStatus.ACTIVE
    assert released.reserved_by is None and released.reserved_until is None
    again = listing_release(listing_id=listing.pk, buyer=buyer)  # twice: harmless
    assert again.status == ListingStatus.ACTIVE


def test_releasing_someone_elses_hold_changes_nothing(listing, buyer, now):
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    listing_release(listing_id=listing.pk, buyer=UserFactory())
    listing.refresh_from_db()
    assert listing.status == ListingStatus.RESERVED and listing.reserved_by == buyer


def test_releasing_without_a_buyer_clears_any_hold(listing, buyer, now):
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    assert listing_release(listing_id=listing.pk).status == ListingStatus.ACTIVE


def test_releasing_a_sold_listing_keeps_it_sold(listing, buyer):
    listing_mark_sold(listing_id=listing.pk, buyer=buyer)
    assert listing_release(listing_id=listing.pk, buyer=buyer).status == ListingStatus.SOLD


def test_marking_sold_ends_the_reservation_and_is_idempotent(listing, buyer, now):
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    sold = listing_mark_sold(listing_id=listing.pk, buyer=buyer)
    assert sold.status == ListingStatus.SOLD and sold.reserved_by is None
    assert listing_mark_sold(listing_id=listing.pk, buyer=buyer).status == ListingStatus.SOLD
    with pytest.raises(ListingUnavailable) as error:
        listing_reserve(listing_id=listing.pk, buyer=UserFactory(), now=now)
    assert error.value.reason == "sold"


def test_a_refunded_sale_goes_back_on_sale(listing, buyer):
    listing_mark_sold(listing_id=listing.pk, buyer=buyer)
    assert listing_return_to_sale(listing_id=listing.pk).status == ListingStatus.ACTIVE


def test_returning_a_withdrawn_listing_to_sale_leaves_it_withdrawn():
    listing = ListingFactory(status=ListingStatus.WITHDRAWN)
    assert listing_return_to_sale(listing_id=listing.pk).status == ListingStatus.WITHDRAWN


def test_the_owner_withdraws_an_active_listing_and_a_second_withdraw_is_harmless(listing):
    assert listing_withdraw(listing_id=listing.pk, seller=listing.seller).status == ListingStatus.WITHDRAWN
    assert listing_withdraw(listing_id=listing.pk, seller=listing.seller).status == ListingStatus.WITHDRAWN


def test_a_stranger_cannot_withdraw_a_listing(listing):
    with pytest.raises(ListingNotFound):
        listing_withdraw(listing_id=listing.pk, seller=UserFactory())


def test_a_listing_cannot_be_withdrawn_while_a_buyer_is_paying(listing, buyer, now):
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    with pytest.raises(ListingNotWithdrawable):
        listing_withdraw(listing_id=listing.pk, seller=listing.seller, now=now + timedelta(minutes=1))


def test_a_listing_with_a_lapsed_reservation_can_be_withdrawn(settings, listing, buyer, now):
    listing_reserve(listing_id=listing.pk, buyer=buyer, now=now)
    later = now + timedelta(minutes=settings.LISTING_RESERVATION_MINUTES + 1)
    withdrawn = listing_withdraw(listing_id=listing.pk, seller=listing.seller, now=later)
    assert withdrawn.status == ListingStatus.WITHDRAWN and withdrawn.reserved_by is None


def test_a_sold_listing_cannot_be_withdrawn(listing, buyer):
    listing_mark_sold(listing_id=listing.pk, buyer=buyer)
    with pytest.raises(ListingNotWithdrawable):
        listing_withdraw(listing_id=listing.pk, seller=listing.seller)


def test_the_owner_relists_a_withdrawn_listing(listing):
    listing_withdraw(listing_id=listing.pk, seller=listing.seller)
    assert listing_relist(listing_id=listing.pk, seller=listing.seller).status == ListingStatus.ACTIVE


@pytest.mark.parametrize("price", [49, 100_000_000, "50", 12.5])
def test_services_refuse_prices_outside_stripe_limits(price):
    from marketplace.services import InvalidPrice, listing_create, listing_update

    seller = ListingFactory().seller
    stub_fields = {"event_name": "Live Aid", "venue": "Wembley", "city": "London",
                   "event_date": "1985-07-13", "category": "concert"}
    with pytest.raises(InvalidPrice):
        listing_create(seller=seller, price_cents=price, **stub_fields)
    listing = ListingFactory(seller=seller)
    with pytest.raises(InvalidPrice):
        listing_update(listing_id=listing.pk, seller=seller, price_cents=price)


def test_a_non_seller_cannot_create_a_listing():
    from marketplace.services import NotASeller, listing_create

    with pytest.raises(NotASeller):
        listing_create(seller=UserFactory(), price_cents=500, event_name="x", venue="y", city="z",
                       event_date="2000-01-01", category="other")
