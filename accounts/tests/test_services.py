import pytest

from accounts.models import User
from accounts.services import (
    InvalidInput,
    SellerCountryLocked,
    UsernameTaken,
    user_become_seller,
    user_signup,
    user_update_profile,
    user_update_seller_bio,
)
from accounts.signals import seller_became
from accounts.tests.factories import NewSellerFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_signup_creates_a_buyer_with_a_usable_password():
    user = user_signup(username="alice", email="Alice@EXAMPLE.com", password="a-long-passphrase-42")

    user.refresh_from_db()
    assert user.username == "alice"
    assert user.email == "Alice@example.com"
    assert user.check_password("a-long-passphrase-42")
    assert not user.is_seller
    assert not user.is_staff


def test_signup_refuses_a_username_that_differs_only_in_case():
    UserFactory(username="alice")

    with pytest.raises(UsernameTaken):
        user_signup(username="ALICE", email="a@example.com", password="a-long-passphrase-42")
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_becoming_a_seller_sets_country_and_bio():
    user = UserFactory()

    user_become_seller(user=user, country="us", bio="  Football stubs since 1966.  ")

    user.refresh_from_db()
    assert user.is_seller
    assert user.seller_country == "US"
    assert user.seller_bio == "Football stubs since 1966."
    assert not user.can_accept_payments


def test_becoming_a_seller_refuses_a_country_stripe_connect_is_not_offered_in():
    user = UserFactory()

    with pytest.raises(InvalidInput):
        user_become_seller(user=user, country="GB", bio="")  # sellers are US only
    user.refresh_from_db()
    assert not user.is_seller


def test_becoming_a_seller_twice_only_updates_the_bio():
    user = NewSellerFactory(seller_country="US")

    user_become_seller(user=user, country="US", bio="New bio")

    user.refresh_from_db()
    assert user.is_seller and user.seller_bio == "New bio"


@pytest.fixture
def became():
    """The users `seller_became` was sent for."""
    sent = []

    def receiver(sender, *, user, **kwargs):
        sent.append(user.pk)

    seller_became.connect(receiver, dispatch_uid="test_seller_became")
    yield sent
    seller_became.disconnect(dispatch_uid="test_seller_became")


def test_becoming_a_seller_is_announced_once(became):
    user = UserFactory()

    user_become_seller(user=user, country="US", bio="")
    user_become_seller(user=user, country="US", bio="Again")

    assert became == [user.pk]


def test_a_refused_request_to_become_a_seller_announces_nothing(became):
    with pytest.raises(InvalidInput):
        user_become_seller(user=UserFactory(), country="GB", bio="")

    assert became == []


def test_becoming_a_seller_without_country_or_bio_keeps_the_profiles(became):
    # Starting Stripe onboarding (connect.services.seller_become) comes in this way.
    user = UserFactory(seller_country="US", seller_bio="Cup finals only.")

    user_become_seller(user=user)

    user.refresh_from_db()
    assert (user.is_seller, user.seller_country, user.seller_bio) == (True, "US", "Cup finals only.")
    assert became == [user.pk]


def test_the_country_cannot_change_once_the_stripe_account_exists():
    # A seller whose account was opened before sellers were US only keeps its country.
    seller = SellerFactory(seller_country="GB")

    with pytest.raises(SellerCountryLocked):
        user_become_seller(user=seller, country="US", bio="")
    seller.refresh_from_db()
    assert seller.seller_country == "GB"


def test_a_bio_longer_than_the_limit_is_refused():
    user = UserFactory()

    with pytest.raises(InvalidInput):
        user_become_seller(user=user, country="US", bio="x" * 2001)


def test_profile_update_changes_name_and_email_but_not_the_seller_state():
    seller = SellerFactory()

    user_update_profile(user=seller, first_name=" Ada ", last_name="Lovelace", email="ada@example.com")

    seller.refresh_from_db()
    assert (seller.first_name, seller.last_name, seller.email) == ("Ada", "Lovelace", "ada@example.com")
    assert seller.can_accept_payments


def test_only_a_seller_can_have_a_bio():
    buyer = UserFactory()

    with pytest.raises(InvalidInput):
        user_update_profile(
            user=buyer, first_name="", last_name="", email=buyer.email, seller_bio="I sell things"
        )


def test_a_seller_updates_the_bio_alone():
    seller = NewSellerFactory(first_name="Keep")

    user_update_seller_bio(user=seller, bio="  Opera and ballet.  ")

    seller.refresh_from_db()
    assert seller.seller_bio == "Opera and ballet." and seller.first_name == "Keep"


def test_a_buyer_cannot_set_a_bio_through_the_bio_service():
    with pytest.raises(InvalidInput):
        user_update_seller_bio(user=UserFactory(), bio="hi")
