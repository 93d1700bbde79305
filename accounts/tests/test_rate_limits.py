"""Log-in and sign-up are rate limited; the limiter counts in the default cache (locmem in
development and in these tests, Redis when CACHE_URL points at one, as in CI's second run)."""

import pytest

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.views import LOGIN_RATE_PER_IP, LOGIN_RATE_PER_USERNAME, SIGNUP_RATE_PER_IP

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SIGNUP = "/accounts/signup/"


def allowed(rate: str) -> int:
    return int(rate.split("/")[0])


def test_the_limits_are_the_documented_ones():
    assert (LOGIN_RATE_PER_IP, LOGIN_RATE_PER_USERNAME, SIGNUP_RATE_PER_IP) == ("10/m", "5/m", "5/h")


def test_too_many_wrong_passwords_for_one_username_get_a_429_page(client):
    user = UserFactory()
    for _ in range(allowed(LOGIN_RATE_PER_USERNAME)):
        assert client.post(LOGIN, {"username": user.username, "password": "wrong"}).status_code == 400

    response = client.post(LOGIN, {"username": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "text/html" in response["Content-Type"]
    assert "Too many attempts" in response.text
    assert "_auth_user_id" not in client.session


def test_the_username_limit_ignores_letter_case(client):
    user = UserFactory(username="casey")
    for name in ["casey", "CASEY", "Casey", "cAsEy", "caseY"]:
        client.post(LOGIN, {"username": name, "password": "wrong"})

    assert client.post(LOGIN, {"username": user.username, "password": "wrong"}).status_code == 429


def test_one_ip_trying_many_usernames_is_limited_too(client):
    for n in range(allowed(LOGIN_RATE_PER_IP)):
        assert client.post(LOGIN, {"username": f"guess{n}", "password": "x"}).status_code == 400

    assert client.post(LOGIN, {"username": "guess-last", "password": "x"}).status_code == 429


def test_another_ip_is_not_blocked_by_someone_elses_attempts(client):
    for n in range(allowed(LOGIN_RATE_PER_IP) + 1):
        client.post(LOGIN, {"username": f"guess{n}", "password": "x"}, REMOTE_ADDR="203.0.113.7")
    user = UserFactory()

    response = client.post(
        LOGIN, {"username": user.username, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="198.51.100.2"
    )

    assert response.status_code == 302


def test_showing_the_login_form_does_not_count(client):
    for _ in range(allowed(LOGIN_RATE_PER_IP) + 5):
        assert client.get(LOGIN).status_code == 200


def test_the_429_is_json_for_a_client_that_asks_for_json(client):
    user = UserFactory()
    for _ in range(allowed(LOGIN_RATE_PER_USERNAME)):
        client.post(LOGIN, {"username": user.username, "password": "wrong"})

    response = client.post(
        LOGIN, {"username": user.username, "password": "wrong"}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


def test_too_many_signups_from_one_ip_get_a_429_page(client):
    for n in range(allowed(SIGNUP_RATE_PER_IP)):
        response = client.post(
            SIGNUP,
            {"username": f"bulk{n}", "email": f"bulk{n}@example.com",
             "password1": "tickets-from-1977", "password2": "tickets-from-1977"},
        )
        assert response.status_code == 302
        client.logout()

    response = client.post(
        SIGNUP,
        {"username": "bulk-last", "email": "last@example.com",
         "password1": "tickets-from-1977", "password2": "tickets-from-1977"},
    )

    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert not User.objects.filter(username="bulk-last").exists()


def test_the_limit_counts_in_the_shared_cache_not_per_request(client, settings):
    """The counter lives in the configured cache: clearing it (as a new window would) lets the
    user in again, which shows the count is kept there and not in the request."""
    from django.core.cache import caches

    user = UserFactory()
    for _ in range(allowed(LOGIN_RATE_PER_USERNAME) + 1):
        client.post(LOGIN, {"username": user.username, "password": "wrong"})
    assert client.post(LOGIN, {"username": user.username, "password": "wrong"}).status_code == 429

    caches[settings.RATELIMIT_USE_CACHE].clear()

    assert client.post(LOGIN, {"username": user.username, "password": DEFAULT_PASSWORD}).status_code == 302


def test_the_development_default_local_memory_cache_limits_within_one_process(client, settings):
    """make run's default (no CACHE_URL): one process, local memory, and the limit still holds."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "rate-limit-test"}}
    user = UserFactory()
    for _ in range(allowed(LOGIN_RATE_PER_USERNAME)):
        assert client.post(LOGIN, {"username": user.username, "password": "wrong"}).status_code == 400

    assert client.post(LOGIN, {"username": user.username, "password": "wrong"}).status_code == 429
