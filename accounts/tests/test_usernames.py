"""One account, one login limit, whatever the spelling; sign-up refuses
usernames built to look like someone else's."""

import pytest

from accounts.models import User
from accounts.services import UsernameTaken, user_signup
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.usernames import username_key, username_mixes_scripts
from accounts.views import LOGIN_RATE_PER_USERNAME

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SIGNUP = "/accounts/signup/"

FULL_WIDTH_B = "\uff42"  # ｂ, which NFKC makes a plain b
CYRILLIC_U = "\u0443"  # у, which looks like y
CYRILLIC_E = "\u0435"  # е, which looks like e
CYRILLIC_A = "\u0430"  # а
CYRILLIC_P = "\u0440"  # р


def signup_data(username):
    return {"username": username, "email": "new@example.com",
            "password1": "tickets-from-1977", "password2": "tickets-from-1977"}


# -- the login limiter counts per account, not per spelling ---------------------------------------


def test_full_width_spellings_of_a_username_share_its_login_limit(client):
    user = UserFactory(username="buyer")
    spellings = [f"{FULL_WIDTH_B}uyer", "buyer", f"{FULL_WIDTH_B}UYER", " buyer ", "ｂｕｙｅｒ"]
    assert len(spellings) == int(LOGIN_RATE_PER_USERNAME.split("/")[0])
    for name in spellings:
        assert client.post(LOGIN, {"username": name, "password": "wrong"}).status_code == 400

    response = client.post(LOGIN, {"username": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 429


def test_the_full_width_spelling_is_the_same_account_for_django(client):
    """Why the limiter must fold it: Django's login form logs the full-width spelling in."""
    UserFactory(username="buyer")

    response = client.post(LOGIN, {"username": f"{FULL_WIDTH_B}uyer", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302


def test_the_key_folds_width_case_and_look_alike_letters():
    assert username_key(f"{FULL_WIDTH_B}uyer") == username_key("BUYER") == "buyer"
    assert username_key(f"bu{CYRILLIC_U}{CYRILLIC_E}r") == "buyer"
    assert username_key("Straße") == username_key("strasse")
    assert username_key("collector_77") == "collector_77"


# -- sign-up refuses look-alikes ------------------------------------------------------------------


def test_signup_refuses_a_cyrillic_look_alike_of_an_existing_username(client):
    UserFactory(username="buyer")

    response = client.post(SIGNUP, signup_data(f"bu{CYRILLIC_U}{CYRILLIC_E}r"))

    assert response.status_code == 400
    assert "alphabet" in response.text or "looks too much like" in response.text
    assert User.objects.count() == 1


def test_signup_refuses_a_whole_script_look_alike_of_an_existing_username(client):
    UserFactory(username="pap")
    look_alike = f"{CYRILLIC_P}{CYRILLIC_A}{CYRILLIC_P}"  # all Cyrillic: not mixed, still "pap"
    assert not username_mixes_scripts(look_alike)

    response = client.post(SIGNUP, signup_data(look_alike))

    assert response.status_code == 400
    assert "looks too much like an existing one" in response.text
    assert User.objects.count() == 1


def test_signup_refuses_a_full_width_or_differently_cased_copy(client):
    UserFactory(username="buyer")

    for name in [f"{FULL_WIDTH_B}uyer", "BUYER"]:
        assert client.post(SIGNUP, signup_data(name)).status_code == 400
    assert User.objects.count() == 1


def test_signup_refuses_a_username_mixing_scripts_even_when_nobody_has_it(client):
    response = client.post(SIGNUP, signup_data(f"p{CYRILLIC_A}ypal"))

    assert response.status_code == 400
    assert "one alphabet" in response.text
    assert not User.objects.exists()


def test_signup_still_takes_names_in_one_other_script_and_ordinary_names(client):
    assert client.post(SIGNUP, signup_data("\u0438\u0432\u0430\u043d")).status_code == 302  # иван
    client.post("/accounts/logout/")
    assert client.post(SIGNUP, signup_data("collector_77")).status_code == 302
    usernames = set(User.objects.values_list("username", flat=True))
    assert usernames == {"\u0438\u0432\u0430\u043d", "collector_77"}


def test_the_signup_service_refuses_look_alikes_too():
    UserFactory(username="buyer")

    with pytest.raises(UsernameTaken):
        user_signup(username=f"bu{CYRILLIC_U}{CYRILLIC_E}r", email="x@example.com", password="pw-1977-x")


def test_the_key_follows_a_renamed_user():
    user = UserFactory(username="before")
    user.username = "after"
    user.save(update_fields=["username"])

    user.refresh_from_db()
    assert user.username_key == "after"
