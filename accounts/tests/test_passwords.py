"""Password reset by email and password change: Django's own flows, on our pages, rate limited,
with a link built on SITE_URL that works once and never says whether an address has an account."""

import re

import pytest
from django.core import mail

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.views import (
    PASSWORD_CHANGE_RATE_PER_USER,
    PASSWORD_RESET_RATE_PER_EMAIL,
    PASSWORD_RESET_RATE_PER_IP,
)

pytestmark = pytest.mark.django_db

RESET = "/accounts/password/reset/"
CHANGE = "/accounts/password/change/"
NEW_PASSWORD = "a-much-longer-Passphrase-42"


def allowed(rate: str) -> int:
    return int(rate.split("/")[0])


def reset_link(message) -> str:
    return re.search(r"https?://\S+/accounts/password/reset/\S+/\S+/", message.body).group(0)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_the_login_page_links_to_the_reset_and_the_profile_to_the_change(client):
    assert RESET in client.get("/accounts/login/").text
    client.force_login(UserFactory())
    assert CHANGE in client.get("/accounts/profile/").text


def test_a_reset_sends_a_link_on_site_url_that_sets_a_new_password(client, settings):
    settings.SITE_URL = "https://stubs.example"
    settings.ALLOWED_HOSTS = ["*"]  # a permissive deployment: the Host still must not matter
    user = UserFactory(email="casey@example.com")

    response = client.post(RESET, {"email": "Casey@Example.com"}, HTTP_HOST="evil.example")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["casey@example.com"]
    assert message.subject == "Reset your Stub Collector password"
    link = reset_link(message)
    assert link.startswith("https://stubs.example/accounts/password/reset/")
    assert "evil.example" not in message.body + message.alternatives[0][0]

    form_page = client.get(path_of(link), follow=True)
    assert "Choose a new password" in form_page.text
    done = client.post(form_page.redirect_chain[-1][0],
                       {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_reset_link_works_once(client):
    user = UserFactory(email="once@example.com")
    client.post(RESET, {"email": user.email})
    link = path_of(reset_link(mail.outbox[0]))
    page = client.get(link, follow=True)
    client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = client.get(link, follow=True)

    assert "This link no longer works" in again.text


def test_an_expired_reset_link_is_refused(client, settings):
    user = UserFactory(email="late@example.com")
    client.post(RESET, {"email": user.email})
    link = path_of(reset_link(mail.outbox[0]))
    settings.PASSWORD_RESET_TIMEOUT = -1

    assert "This link no longer works" in client.get(link, follow=True).text


def test_a_forged_reset_link_is_refused(client):
    user = UserFactory()
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))

    page = client.get(f"/accounts/password/reset/{uid}/abc-123/", follow=True)

    assert page.status_code == 200
    assert "This link no longer works" in page.text
    assert client.get("/accounts/password/reset/!!/x/").status_code in (200, 404)


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client):
    UserFactory(email="known@example.com")

    known = client.post(RESET, {"email": "known@example.com"})
    unknown = client.post(RESET, {"email": "nobody@example.com"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [["known@example.com"]]


def test_a_reset_with_a_malformed_address_is_a_400_with_a_message(client):
    response = client.post(RESET, {"email": "not an address"})

    assert response.status_code == 400
    assert "Enter a valid email address" in response.text
    assert mail.outbox == []


def test_reset_requests_for_one_address_are_limited(client):
    user = UserFactory(email="flood@example.com")
    for n in range(allowed(PASSWORD_RESET_RATE_PER_EMAIL)):
        client.post(RESET, {"email": user.email}, REMOTE_ADDR=f"198.51.100.{n + 1}")

    response = client.post(RESET, {"email": "FLOOD@example.com"}, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 429
    assert len(mail.outbox) == allowed(PASSWORD_RESET_RATE_PER_EMAIL)


def test_reset_requests_from_one_ip_are_limited(client):
    for n in range(allowed(PASSWORD_RESET_RATE_PER_IP)):
        assert client.post(RESET, {"email": f"guess{n}@example.com"}).status_code == 302

    assert client.post(RESET, {"email": "guess-last@example.com"}).status_code == 429


def test_the_change_form_needs_a_login(client):
    response = client.get(CHANGE)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_logged_in_user_changes_the_password_and_stays_logged_in(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD,
                                    "new_password2": NEW_PASSWORD}, follow=True)

    assert response.status_code == 200
    assert "Your password is changed." in response.text
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get("/accounts/profile/").status_code == 200


def test_a_wrong_old_password_is_a_400_and_changes_nothing(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(CHANGE, {"old_password": "wrong", "new_password1": NEW_PASSWORD,
                                    "new_password2": NEW_PASSWORD})

    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in response.text
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_attempts_are_limited_per_user(client):
    client.force_login(UserFactory())
    for _ in range(allowed(PASSWORD_CHANGE_RATE_PER_USER)):
        client.post(CHANGE, {"old_password": "wrong", "new_password1": "x", "new_password2": "x"})

    response = client.post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD,
                                    "new_password2": NEW_PASSWORD})

    assert response.status_code == 429
