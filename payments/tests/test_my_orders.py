import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus

pytestmark = pytest.mark.django_db

URL = "/marketplace/my-orders/"


def make_order(*, buyer, listing, status=OrderStatus.PAID, **fields):
    return Order.objects.create(
        buyer=buyer,
        seller=listing.seller,
        listing=listing,
        amount_cents=listing.price_cents,
        application_fee_cents=listing.price_cents // 10,
        status=status,
        stripe_account_id=listing.seller.stripe_account_id,
        shipping_name="Ann Buyer",
        shipping_line1="1 Main St",
        shipping_city="Springfield",
        shipping_postal_code="12345",
        **fields,
    )


def test_anonymous_callers_get_a_403_in_the_house_shape(client):
    response = client.get(URL)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_buyer_sees_their_purchases(client):
    buyer = UserFactory()
    listing = ListingFactory(price_cents=5000)
    paid_at = timezone.now()
    order = make_order(buyer=buyer, listing=listing, paid_at=paid_at, tracking_number="1Z999")
    make_order(buyer=UserFactory(), listing=ListingFactory())  # someone else's
    client.force_login(buyer)

    body = client.get(URL).json()

    assert body["sales"] == []
    assert len(body["purchases"]) == 1
    item = body["purchases"][0]
    assert item["id"] == order.pk and item["status"] == "paid" and item["listing_id"] == listing.pk
    assert item["event_name"] == listing.stub.event_name
    assert item["amount_cents"] == 5000 and item["currency"] == "usd"
    assert "application_fee_cents" not in item  # between the seller and us
    assert item["created_at"] and item["paid_at"] and item["shipped_at"] is None
    assert item["tracking_number"] == "1Z999"
    assert item["counterpart"] == listing.seller.username


def test_a_seller_sees_their_sales(client):
    listing = ListingFactory()
    buyer = UserFactory()
    order = make_order(buyer=buyer, listing=listing, status=OrderStatus.SHIPPED, shipped_at=timezone.now())
    client.force_login(listing.seller)

    body = client.get(URL).json()

    assert body["purchases"] == []
    assert [item["id"] for item in body["sales"]] == [order.pk]
    assert body["sales"][0]["counterpart"] == buyer.username
    assert body["sales"][0]["shipped_at"]
    assert body["sales"][0]["application_fee_cents"] == order.application_fee_cents


def test_my_orders_query_count_does_not_grow(client, django_assert_num_queries):
    buyer = UserFactory()
    client.force_login(buyer)
    make_order(buyer=buyer, listing=ListingFactory())
    with django_assert_num_queries(3):  # user, purchases, sales (the session from the cache)
        client.get(URL)
    for _ in range(10):
        make_order(buyer=buyer, listing=ListingFactory())
    with django_assert_num_queries(3):
        assert len(client.get(URL).json()["purchases"]) == 11
