"""The /checkout/<listing_id>/ page and GET /payments/orders/<id>/status/."""

import json

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from marketplace.models import ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import OrderStatus
from payments.tests.factories import OrderFactory, PaidOrderFactory, shipping_address

pytestmark = pytest.mark.django_db


def checkout_url(listing_id):
    return reverse("payments_pages:checkout", args=[listing_id])


def test_the_checkout_page_lives_at_the_contract_path():
    assert checkout_url(7) == "/checkout/7/"


def test_anonymous_visitors_are_sent_to_log_in(client):
    listing = ListingFactory()

    response = client.get(checkout_url(listing.pk))

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/") and f"next=/checkout/{listing.pk}/" in response.url


def test_the_page_shows_the_summary_the_address_form_and_mounts_stripe_js_without_inline_scripts(
    client, settings
):
    listing = ListingFactory(price_cents=1999)
    client.force_login(UserFactory())

    response = client.get(checkout_url(listing.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "$19.99" in html  # price
    # The buyer never sees the platform fee (1999 → 200) or what the seller receives.
    assert "$2.00" not in html and "$17.99" not in html
    assert "Platform fee" not in html and "Seller receives" not in html
    for name in shipping_address():  # every field a checkout sends has its input
        assert f'name="{name}"' in html
    assert f'<script src="{settings.STRIPE_JS_URL}"></script>' in html
    assert 'id="payment-element"' in html
    assert "/static/js/checkout.js" in html
    config = response.context["checkout_config"]
    assert config == {
        "listingId": listing.pk,
        "createUrl": "/payments/create-payment-intent/",
        "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
    }
    assert '<script id="checkout-config" type="application/json">' in html
    # every <script> either loads a file or is inert JSON: the CSP forbids inline code
    for tag in html.split("<script")[1:]:
        head = tag.split(">", 1)[0]
        assert "src=" in head or 'type="application/json"' in head


def test_a_sold_listing_shows_why_it_cannot_be_bought_and_no_payment_form(client):
    listing = ListingFactory(status=ListingStatus.SOLD)
    client.force_login(UserFactory())

    response = client.get(checkout_url(listing.pk))

    assert response.status_code == 409
    html = response.content.decode()
    assert "This stub has already been sold." in html
    assert 'id="payment-element"' not in html


def test_the_seller_sees_they_cannot_buy_their_own_listing(client):
    listing = ListingFactory()
    client.force_login(listing.seller)

    response = client.get(checkout_url(listing.pk))

    assert response.status_code == 409
    assert "This is your own listing; you cannot buy it." in response.content.decode()


def test_an_unknown_listing_is_a_404(client):
    client.force_login(UserFactory())

    assert client.get(checkout_url(999_999)).status_code == 404


def test_the_address_is_prefilled_from_the_buyers_last_order(client):
    buyer = UserFactory()
    PaidOrderFactory(buyer=buyer, shipping_name="Grace Hopper", shipping_city="Arlington")
    client.force_login(buyer)

    response = client.get(checkout_url(ListingFactory().pk))

    html = response.content.decode()
    assert 'value="Grace Hopper"' in html and 'value="Arlington"' in html


# -- the status route the return page polls -------------------------------------------------


def status_url(order):
    return reverse("payments:order_status", args=[order.pk])


def test_the_buyer_and_the_seller_can_read_the_order_status(client):
    order = OrderFactory()
    assert status_url(order) == f"/payments/orders/{order.pk}/status/"
    readers = ((order.buyer, "Awaiting your payment"), (order.seller, "Awaiting the buyer's payment"))
    for user, words in readers:
        client.force_login(user)
        response = client.get(status_url(order))
        assert response.status_code == 200
        assert response.json() == {
            "order_id": order.pk,
            "status": "pending_payment",
            "status_display": words,
            "paid": False,
            "pending": True,
        }


def test_the_status_says_paid_once_the_webhook_has_marked_it(client):
    order = PaidOrderFactory()
    client.force_login(order.buyer)

    data = client.get(status_url(order)).json()

    assert data["status"] == OrderStatus.PAID and data["paid"] is True and data["pending"] is False


def test_a_stranger_gets_404_and_anonymous_403_from_the_status_route(client):
    order = OrderFactory()

    anonymous = client.get(status_url(order))
    client.force_login(UserFactory())
    stranger = client.get(status_url(order))

    assert anonymous.status_code == 403 and anonymous.json()["error"]["code"] == "not_authenticated"
    assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "order_not_found"
    assert json.dumps(stranger.json()).find(order.buyer.username) == -1
