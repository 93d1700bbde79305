import pytest

from accounts.tests.factories import NewSellerFactory, UserFactory
from marketplace.models import ListingStatus
from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

URL = "/marketplace/payment-compatibility/"


def test_global_payment_facts(client, settings):
    settings.PLATFORM_FEE_BPS = 1000
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "payments_enabled": True,
        "currencies": ["usd"],
        "platform_fee_bps": 1000,
        "platform_fee_percent": "10.00",
        "min_amount_cents": 50,
        "max_amount_cents": 99_999_999,
        "charge_type": "direct",
    }


def test_a_buyable_listing_shows_a_buyer_what_they_pay_and_not_the_fee(client, settings):
    settings.PLATFORM_FEE_BPS = 1000
    listing = ListingFactory(price_cents=1999)
    body = client.get(URL, {"listing_id": listing.pk}).json()
    assert body["charge_type"] == "direct"
    assert body["listing_id"] == listing.pk
    assert body["purchasable"] is True and body["reasons"] == []
    assert body["amount_cents"] == 1999
    assert "application_fee_cents" not in body and "seller_receives_cents" not in body


def test_the_seller_and_staff_see_the_fee_split(client, settings):
    settings.PLATFORM_FEE_BPS = 1000
    listing = ListingFactory(price_cents=1999)
    for viewer in (listing.seller, UserFactory(is_staff=True)):
        client.force_login(viewer)
        body = client.get(URL, {"listing_id": listing.pk}).json()
        assert (body["application_fee_cents"], body["seller_receives_cents"]) == (200, 1799)


def test_a_listing_that_cannot_be_bought_gives_its_reason(client):
    listing = ListingFactory(seller=NewSellerFactory())
    body = client.get(URL, {"listing_id": listing.pk}).json()
    assert body["purchasable"] is False
    assert body["reasons"][0]["code"] == "seller_cannot_accept_payments"
    assert body["reasons"][0]["message"]


def test_the_owner_is_told_it_is_their_own_listing(client):
    listing = ListingFactory()
    client.force_login(listing.seller)
    body = client.get(URL, {"listing_id": listing.pk}).json()
    assert body["reasons"] == [{"code": "own_listing", "message": body["reasons"][0]["message"]}]


def test_a_sold_listing_is_not_purchasable(client):
    listing = ListingFactory(status=ListingStatus.SOLD)
    assert client.get(URL, {"listing_id": listing.pk}).json()["reasons"][0]["code"] == "sold"


@pytest.mark.parametrize("bad", ["abc", "-1", "0", "1.5", "", "99999999999999999999999"])
def test_a_bad_listing_id_is_a_400(client, bad):
    response = client.get(URL, {"listing_id": bad})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_an_unknown_or_hidden_listing_is_a_404(client):
    hidden = ListingFactory(status=ListingStatus.WITHDRAWN)
    for listing_id in (999_999, hidden.pk):
        response = client.get(URL, {"listing_id": listing_id})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "listing_not_found"
