"""The sandbox's one-time link pages (onboarding, 3-D Secure, the Express dashboard) answer an
unknown token, or a token of another kind of link, with a 404 page that says what was missing."""

import pytest
import stripe


@pytest.mark.parametrize(
    ("method", "path", "words"),
    [
        ("GET", "/_sandbox/onboarding/nope", "This onboarding link is unknown."),
        ("POST", "/_sandbox/onboarding/nope", "This onboarding link is unknown."),
        ("GET", "/_sandbox/3ds/nope", "This authentication is unknown or already finished."),
        ("POST", "/_sandbox/3ds/nope", "This authentication is unknown or already finished."),
        ("GET", "/_sandbox/dashboard/nope", "This login link is unknown."),
    ],
)
def test_an_unknown_link_token_is_a_404_page_that_says_so(stripe_sandbox, method, path, words):
    page = stripe_sandbox.request(method, path)

    assert page.status == 404
    assert words in page.text


def test_a_login_link_token_does_not_open_the_onboarding_page(stripe_sandbox, seller):
    token = stripe.Account.create_login_link(seller["id"]).url.rstrip("/").rsplit("/", 1)[1]

    assert stripe_sandbox.request("GET", f"/_sandbox/dashboard/{token}").status == 200
    page = stripe_sandbox.request("GET", f"/_sandbox/onboarding/{token}")
    assert page.status == 404
    assert "This onboarding link is unknown." in page.text
