import pytest

from accounts.selectors import seller_get_by_username, seller_public_profile
from accounts.tests.factories import SellerFactory, UserFactory
from stubcollector.errors import NotFound

pytestmark = pytest.mark.django_db


def test_a_public_profile_shows_only_public_facts():
    seller = SellerFactory(first_name="Ada", last_name="Lovelace", seller_bio="Opera stubs.")

    profile = seller_public_profile(username=seller.username)

    assert profile.display_name == "Ada Lovelace"
    assert profile.bio == "Opera stubs."
    assert profile.can_accept_payments
    assert not hasattr(profile, "email")
    assert not hasattr(profile, "stripe_account_id")


def test_a_buyer_has_no_public_seller_profile():
    buyer = UserFactory()

    with pytest.raises(NotFound):
        seller_get_by_username(username=buyer.username)


def test_an_unknown_seller_is_not_found():
    with pytest.raises(NotFound):
        seller_public_profile(username="nobody")
