from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import StripeAccountStatus
from accounts.tests.factories import NewSellerFactory, SellerFactory, UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.services import listing_can_be_purchased, listing_purchase_blocker
from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def blocker_code(listing, buyer, now):
    blocker = listing_purchase_blocker(listing=listing, buyer=buyer, now=now)
    return blocker.code if blocker else None


def test_an_active_listing_of_an_onboarded_seller_can_be_bought(buyer, now):
    listing = ListingFactory()
    assert listing_purchase_blocker(listing=listing, buyer=buyer, now=now) is None
    assert listing_can_be_purchased(listing=listing, buyer=buyer, now=now)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (ListingStatus.DRAFT, "not_active"),
        (ListingStatus.SOLD, "sold"),
        (ListingStatus.WITHDRAWN, "withdrawn"),
    ],
)
def test_a_listing_not_on_sale_cannot_be_bought(buyer, now, status, code):
    listing = ListingFactory(status=status)
    assert blocker_code(listing, buyer, now) == code
    assert not listing_can_be_purchased(listing=listing, buyer=buyer, now=now)


def test_the_blocker_is_a_plain_words_message_with_a_code(buyer, now):
    listing = ListingFactory(status=ListingStatus.SOLD)
    blocker = listing_purchase_blocker(listing=listing, buyer=buyer, now=now)
    assert isinstance(blocker, str) and "sold" in blocker
    assert blocker.as_dict() == {"code": "sold", "message": str(blocker)}


def test_a_listing_reserved_by_another_buyer_cannot_be_bought(buyer, now):
    listing = ListingFactory(
        status=ListingStatus.RESERVED, reserved_by=UserFactory(), reserved_until=now + timedelta(minutes=5)
    )
    assert blocker_code(listing, buyer, now) == "reserved"


def test_the_buyer_holding_the_reservation_can_still_buy(buyer, now):
    listing = ListingFactory(
        status=ListingStatus.RESERVED, reserved_by=buyer, reserved_until=now + timedelta(minutes=5)
    )
    assert blocker_code(listing, buyer, now) is None


def test_a_lapsed_reservation_counts_as_free(buyer, now):
    listing = ListingFactory(
        status=ListingStatus.RESERVED, reserved_by=UserFactory(), reserved_until=now - timedelta(seconds=1)
    )
    assert blocker_code(listing, buyer, now) is None
    assert listing_can_be_purchased(listing=listing, buyer=buyer, now=now)


def test_a_reservation_ending_exactly_now_has_lapsed(buyer, now):
    listing = ListingFactory(status=ListingStatus.RESERVED, reserved_by=UserFactory(), reserved_until=now)
    assert blocker_code(listing, buyer, now) is None


def test_a_seller_cannot_buy_their_own_listing(now):
    listing = ListingFactory()
    assert blocker_code(listing, listing.seller, now) == "own_listing"


def test_a_seller_who_has_not_onboarded_cannot_take_payment(buyer, now):
    listing = ListingFactory(seller=NewSellerFactory())
    assert blocker_code(listing, buyer, now) == "seller_cannot_accept_payments"


@pytest.mark.parametrize(
    "change",
    [
        {"stripe_requirements_past_due": ["external_account"]},
        {"stripe_capabilities_enabled": False},
        {"stripe_account_status": StripeAccountStatus.RESTRICTED},
        {"stripe_onboarding_completed": False},
    ],
)
def test_a_seller_whose_account_is_restricted_cannot_take_payment(buyer, now, change):
    listing = ListingFactory(seller=SellerFactory(**change))
    assert blocker_code(listing, buyer, now) == "seller_cannot_accept_payments"


@pytest.mark.parametrize("anonymous", [None, AnonymousUser()])
def test_an_anonymous_visitor_sees_a_buyable_listing_as_buyable(now, anonymous):
    assert blocker_code(ListingFactory(), anonymous, now) is None


def test_an_anonymous_visitor_sees_a_live_reservation_as_reserved(now):
    listing = ListingFactory(
        status=ListingStatus.RESERVED, reserved_by=UserFactory(), reserved_until=now + timedelta(minutes=5)
    )
    assert blocker_code(listing, AnonymousUser(), now) == "reserved"


def test_purchasable_now_query_agrees_with_the_rule(buyer, now):
    other = UserFactory()
    buyable = {
        ListingFactory().pk,
        ListingFactory(
            status=ListingStatus.RESERVED, reserved_by=other, reserved_until=now - timedelta(minutes=1)
        ).pk,
    }
    held_until = now + timedelta(minutes=1)
    ListingFactory(status=ListingStatus.RESERVED, reserved_by=other, reserved_until=held_until)
    ListingFactory(status=ListingStatus.SOLD)
    ListingFactory(status=ListingStatus.WITHDRAWN)
    ListingFactory(status=ListingStatus.DRAFT)
    ListingFactory(seller=NewSellerFactory())
    ListingFactory(seller=SellerFactory(stripe_requirements_past_due=["tos_acceptance"]))

    assert set(Listing.objects.purchasable_now(now).values_list("pk", flat=True)) == buyable
    for listing in Listing.objects.select_related("seller"):
        assert listing_can_be_purchased(listing=listing, buyer=buyer, now=now) == (listing.pk in buyable)


def test_available_now_ignores_whether_the_seller_can_take_payment(now):
    listing = ListingFactory(seller=NewSellerFactory())
    assert list(Listing.objects.available_now(now)) == [listing]
    assert list(Listing.objects.purchasable_now(now)) == []


def test_the_payable_seller_query_agrees_with_can_accept_payments_for_every_combination():
    import itertools

    from django.contrib.auth import get_user_model

    from marketplace.models import seller_can_accept_payments_q

    users = []
    for n, (seller, account, onboarded, capable, past_due, status) in enumerate(itertools.product(
        [True, False], ["acct_x", ""], [True, False], [True, False], [[], ["tos_acceptance"]],
        [StripeAccountStatus.ENABLED, StripeAccountStatus.RESTRICTED],
    )):
        users.append(UserFactory(
            username=f"combo{n}", is_seller=seller, stripe_account_id=f"{account}{n}" if account else "",
            stripe_onboarding_completed=onboarded, stripe_capabilities_enabled=capable,
            stripe_requirements_past_due=past_due, stripe_account_status=status,
        ))
    payable = set(get_user_model().objects.filter(seller_can_accept_payments_q(prefix="")).values_list(
        "pk", flat=True))
    assert payable == {user.pk for user in users if user.can_accept_payments}
    assert len(payable) == 1
