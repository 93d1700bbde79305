"""Sign-up, log-in, log-out and profile pages: anonymous, stranger, owner, bad input, double submit."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, NewSellerFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
PROFILE = "/accounts/profile/"


def signup_data(**overrides):
    return {
        "username": "newbuyer",
        "email": "newbuyer@example.com",
        "password1": "tickets-from-1977",
        "password2": "tickets-from-1977",
        **overrides,
    }


def test_the_url_names_base_html_uses_resolve_to_the_design_paths():
    assert reverse("accounts:signup") == SIGNUP
    assert reverse("accounts:login") == LOGIN
    assert reverse("accounts:logout") == LOGOUT
    assert reverse("accounts:profile") == PROFILE


def test_signup_page_shows_the_form(client):
    response = client.get(SIGNUP)

    assert response.status_code == 200
    for field in ("username", "email", "password1", "password2"):
        assert f'name="{field}"' in response.text


def test_signup_creates_the_account_logs_in_and_redirects(client):
    response = client.post(SIGNUP, signup_data())

    assert response.status_code == 302
    assert response.url == reverse("marketplace:browse")
    user = User.objects.get(username="newbuyer")
    assert client.session[SESSION_KEY] == str(user.pk)
    assert not user.is_seller


def test_signup_follows_a_safe_next_but_not_an_external_one(client):
    response = client.post(SIGNUP, signup_data(next="/listings/new/"))
    assert response.url == "/listings/new/"

    client.logout()
    response = client.post(
        SIGNUP, signup_data(username="other", email="o@example.com", next="https://evil.example/")
    )
    assert response.url == reverse("marketplace:browse")


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password2"),
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"username": "has spaces!"}, "username"),
    ],
)
def test_signup_with_bad_input_shows_the_errors_and_creates_nothing(client, overrides, field):
    response = client.post(SIGNUP, signup_data(**overrides))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not User.objects.filter(username=signup_data(**overrides)["username"]).exists()
    assert SESSION_KEY not in client.session


def test_signup_submitted_twice_makes_one_account(client, django_user_model):
    client.post(SIGNUP, signup_data())
    client.logout()
    response = client.post(SIGNUP, signup_data())

    assert response.status_code == 400
    assert "username" in response.context["form"].errors
    assert django_user_model.objects.filter(username="newbuyer").count() == 1


def test_a_signed_in_user_visiting_signup_goes_to_the_profile(client):
    client.force_login(UserFactory())

    response = client.get(SIGNUP)

    assert response.status_code == 302
    assert response.url == PROFILE


def test_login_with_the_right_password_signs_in(client):
    user = UserFactory()

    response = client.post(LOGIN, {"username": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


def test_login_with_a_wrong_password_says_so_without_signing_in(client):
    user = UserFactory()

    response = client.post(LOGIN, {"username": user.username, "password": "wrong"})

    assert response.status_code == 400
    assert "Please enter a correct username and password" in response.text
    assert SESSION_KEY not in client.session


def test_logout_needs_a_post(client):
    client.force_login(UserFactory())

    assert client.get(LOGOUT).status_code == 405
    assert SESSION_KEY in client.session

    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_profile_sends_anonymous_visitors_to_log_in(client):
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    assert "next=/accounts/profile/" in response.url


def test_a_buyer_sees_their_details_and_the_become_a_seller_form(client):
    buyer = UserFactory(email="buyer@example.com")
    client.force_login(buyer)

    response = client.get(PROFILE)

    assert response.status_code == 200
    assert "buyer@example.com" in response.text
    assert "Become a seller" in response.text
    assert '<option value="US" selected>' in response.text


def test_profile_edit_saves_name_and_email_of_the_signed_in_user_only(client):
    owner, stranger = UserFactory(), UserFactory(first_name="Untouched")
    client.force_login(owner)

    response = client.post(
        PROFILE,
        {"action": "profile", "first_name": "Ada", "last_name": "L", "email": "ada@example.com",
         "username": stranger.username},
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    stranger.refresh_from_db()
    assert (owner.first_name, owner.email) == ("Ada", "ada@example.com")
    assert stranger.first_name == "Untouched"


def test_profile_edit_with_a_bad_email_is_a_400_with_the_error(client):
    client.force_login(UserFactory())

    response = client.post(PROFILE, {"action": "profile", "first_name": "", "last_name": "", "email": "nope"})

    assert response.status_code == 400
    assert "email" in response.context["profile_form"].errors


def test_becoming_a_seller_from_the_profile(client):
    buyer = UserFactory()
    client.force_login(buyer)

    response = client.post(PROFILE, {"action": "become_seller", "country": "US", "bio": "Hockey stubs."})

    assert response.status_code == 302
    buyer.refresh_from_db()
    assert buyer.is_seller and buyer.seller_country == "US" and buyer.seller_bio == "Hockey stubs."
    page = client.get(PROFILE).text
    assert "Sellers must live in the United States" not in page  # said before, shown as a fact now
    assert "sellers are US only" in page
    assert "Set up payouts with Stripe" in page
    assert reverse("connect:connect_onboard") in page


def test_becoming_a_seller_twice_is_harmless(client):
    buyer = UserFactory()
    client.force_login(buyer)
    data = {"action": "become_seller", "country": "US", "bio": "Hi"}

    assert client.post(PROFILE, data).status_code == 302
    assert client.post(PROFILE, data).status_code == 302
    buyer.refresh_from_db()
    assert buyer.is_seller


def test_the_profile_says_sellers_are_us_only_and_offers_no_other_country(client):
    client.force_login(UserFactory())

    page = client.get(PROFILE).text

    assert "Sellers must live in the United States" in page
    assert '<option value="US"' in page
    assert '<option value="CA"' not in page and '<option value="GB"' not in page


@pytest.mark.parametrize("country", ["CA", "GB", "DE", "AU"])
def test_becoming_a_seller_outside_the_us_is_a_400(client, country):
    buyer = UserFactory()
    client.force_login(buyer)

    response = client.post(PROFILE, {"action": "become_seller", "country": country, "bio": ""})

    assert response.status_code == 400
    buyer.refresh_from_db()
    assert not buyer.is_seller


def test_becoming_a_seller_with_an_unknown_country_is_a_400(client):
    buyer = UserFactory()
    client.force_login(buyer)

    response = client.post(PROFILE, {"action": "become_seller", "country": "XX", "bio": ""})

    assert response.status_code == 400
    assert "country" in response.context["seller_form"].errors
    buyer.refresh_from_db()
    assert not buyer.is_seller


def test_an_unknown_profile_action_is_a_400(client):
    client.force_login(UserFactory())

    response = client.post(PROFILE, {"action": "make_me_staff"})

    assert response.status_code == 400
    assert "That form is not on this page" in response.text


def test_a_buyer_cannot_set_a_bio(client):
    buyer = UserFactory()
    client.force_login(buyer)

    response = client.post(PROFILE, {"action": "bio", "bio": "sneaky"})

    assert response.status_code == 400
    assert "Become a seller first" in response.text
    buyer.refresh_from_db()
    assert buyer.seller_bio == ""


def test_a_seller_edits_their_bio(client):
    seller = NewSellerFactory()
    client.force_login(seller)

    response = client.post(PROFILE, {"action": "bio", "bio": "Concert stubs from the 80s."})

    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.seller_bio == "Concert stubs from the 80s."


def test_an_onboarded_seller_sees_ready_status_and_links_to_dashboard_and_public_page(client):
    seller = SellerFactory()
    client.force_login(seller)

    page = client.get(PROFILE).text

    assert "Ready to take payments" in page
    assert reverse("payments_pages:dashboard") in page
    assert reverse("marketplace:seller_profile", args=[seller.username]) in page
    assert "Set up payouts with Stripe" not in page


def test_a_seller_with_overdue_requirements_sees_that_stripe_needs_something(client):
    seller = SellerFactory(
        stripe_account_status="restricted",
        stripe_requirements_past_due=["individual.verification.document"],
        stripe_capabilities_enabled=False,
    )
    client.force_login(seller)

    page = client.get(PROFILE).text

    assert "Stripe onboarding not finished" in page
    assert "1 item Stripe needs" in page
    assert "Continue Stripe onboarding" in page
