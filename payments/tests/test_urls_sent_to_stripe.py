"""Every URL we send to Stripe (onboarding return/refresh, the buyer's 3-D Secure
return) is built from SITE_URL, never from the Host header a request claimed."""

import json

import pytest

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from payments import stripe_api
from payments.tests.factories import sandbox_seller_onboarded, shipping_address

pytestmark = pytest.mark.django_db

FORGED_HOST = "evil.example"


@pytest.fixture
def forged_host_allowed(settings):
    # The worst case: a Host that passes ALLOWED_HOSTS (a wildcard, a shared front end).
    settings.ALLOWED_HOSTS = ["testserver", FORGED_HOST]
    settings.SITE_URL = "https://stubs.example"


@pytest.fixture
def sent_links(monkeypatch):
    """Spy on the Account Links we create (the real call still goes to the sandbox)."""
    sent = []
    real = stripe_api.account_link_create

    def spy(**kwargs):
        sent.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(stripe_api, "account_link_create", spy)
    return sent


def test_onboarding_return_and_refresh_urls_come_from_site_url(
    client, stripe_sandbox, forged_host_allowed, sent_links
):
    client.force_login(UserFactory(seller_country="US"))

    response = client.post("/payments/connect/onboard/", HTTP_HOST=FORGED_HOST)

    assert response.status_code == 303
    assert sent_links[-1]["return_url"] == "https://stubs.example/payments/onboard/return/"
    assert sent_links[-1]["refresh_url"] == "https://stubs.example/payments/onboard/refresh/"


def test_a_refreshed_onboarding_link_also_comes_from_site_url(
    client, stripe_sandbox, forged_host_allowed, sent_links
):
    user = UserFactory(seller_country="US")
    client.force_login(user)
    client.post("/payments/connect/onboard/")

    response = client.get("/payments/onboard/refresh/", HTTP_HOST=FORGED_HOST)

    assert response.status_code == 302
    assert len(sent_links) == 2
    assert all(link["return_url"].startswith("https://stubs.example/") for link in sent_links)
    assert all(link["refresh_url"].startswith("https://stubs.example/") for link in sent_links)


def test_the_checkout_return_url_comes_from_site_url(client, stripe_sandbox, forged_host_allowed):
    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox))
    client.force_login(UserFactory())

    response = client.post(
        "/payments/create-payment-intent/",
        data=json.dumps({"listing_id": listing.pk, **shipping_address()}),
        content_type="application/json",
        HTTP_HOST=FORGED_HOST,
    )

    assert response.status_code == 200
    order_id = response.json()["order_id"]
    assert response.json()["return_url"] == f"https://stubs.example/orders/{order_id}/?checkout=1"
