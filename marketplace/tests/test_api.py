import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import NewSellerFactory, UserFactory
from marketplace.models import Category, ListingStatus
from marketplace.pricing import DOLLARS_HELP
from marketplace.tests.factories import ListingFactory, StubFactory

pytestmark = pytest.mark.django_db


def ids(response):
    return [item["id"] for item in response.json()["results"]]


def test_listing_list_carries_payment_status_and_stub_fields(client):
    stub = StubFactory(event_name="Monterey Pop", category="festival")
    listing = ListingFactory(price_cents=2500, stub=stub)
    response = client.get("/api/listings/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["next"] is None
    item = body["results"][0]
    assert item["id"] == listing.pk
    assert item["price_cents"] == 2500 and item["currency"] == "usd" and item["status"] == "active"
    assert item["purchasable"] is True and item["purchase_blocker"] is None
    assert item["seller"] == {
        "username": listing.seller.username,
        "display_name": listing.seller.display_name,
        "can_accept_payments": True,
    }
    assert item["stub"]["event_name"] == "Monterey Pop" and item["stub"]["category"] == "festival"
    assert item["photo_url"] is None and item["thumbnail_url"] is None
    assert item["url"].endswith(f"/listings/{listing.pk}/")


def test_listing_list_marks_the_callers_own_listings(client):
    listing = ListingFactory()
    client.force_login(listing.seller)
    item = client.get("/api/listings/").json()["results"][0]
    assert item["purchasable"] is False
    assert item["purchase_blocker"]["code"] == "own_listing"


def test_listing_list_uses_the_browse_filters(client):
    concert = ListingFactory(price_cents=1500, stub=StubFactory(
        category=Category.CONCERT, performer="Nina Simone", event_date=datetime.date(1976, 7, 3)))
    ListingFactory(price_cents=9000, stub=StubFactory(
        category=Category.SPORTS, performer="Babe Ruth", event_date=datetime.date(1999, 1, 1)))
    assert ids(client.get("/api/listings/", {"category": "concert"})) == [concert.pk]
    assert ids(client.get("/api/listings/", {"q": "simone"})) == [concert.pk]
    assert ids(client.get("/api/listings/", {"max_price": "20"})) == [concert.pk]
    assert ids(client.get("/api/listings/", {"date_to": "1980-01-01"})) == [concert.pk]
    assert ids(client.get("/api/listings/", {"sort": "price_desc"}))[-1] == concert.pk


def test_listing_list_only_shows_what_can_be_bought_now(client):
    buyable = ListingFactory()
    ListingFactory(status=ListingStatus.SOLD)
    ListingFactory(seller=NewSellerFactory())
    ListingFactory(status=ListingStatus.RESERVED, reserved_by=UserFactory(),
                   reserved_until=timezone.now() + timedelta(minutes=5))
    assert ids(client.get("/api/listings/")) == [buyable.pk]


def test_listing_list_is_paginated(client):
    ListingFactory.create_batch(30)
    first = client.get("/api/listings/").json()
    assert first["count"] == 30 and len(first["results"]) == 24 and first["next"]
    assert len(client.get("/api/listings/", {"page": "2"}).json()["results"]) == 6


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "-5"}, "min_price"),
        ({"min_price": "x"}, "min_price"),
        ({"category": "bogus"}, "category"),
        ({"sort": "bogus"}, "sort"),
        ({"min_price": "50", "max_price": "10"}, "max_price"),
        ({"date_from": "soon"}, "date_from"),
        ({"page": "abc"}, "page"),
        ({"page_size": "many"}, "page_size"),
    ],
)
def test_bad_filters_are_a_400_in_the_house_shape(client, params, field):
    ListingFactory()
    response = client.get("/api/listings/", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


def test_a_page_past_the_end_is_a_404_in_the_house_shape(client):
    ListingFactory()
    response = client.get("/api/listings/", {"page": "99999"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_listing_list_pages_through_every_match_with_a_capped_count_then_a_cursor(client, monkeypatch):
    from marketplace import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 4)  # two numbered pages of 2, then cursors
    listings = ListingFactory.create_batch(7)
    newest_first = [listing.pk for listing in reversed(listings)]
    first = client.get("/api/listings/", {"page_size": "2"}).json()
    assert first["count"] == 4 and first["count_is_capped"] is True and first["previous"] is None
    seen, body = ids_of(first), first
    while body["next"]:
        response = client.get(body["next"])
        assert response.status_code == 200
        body = response.json()
        seen += ids_of(body)
    assert seen == newest_first  # each listing once, in order, past the capped count
    assert body["count"] is None and body["previous"] is None  # a cursor page


def ids_of(body):
    return [item["id"] for item in body["results"]]


def test_listing_list_links_keep_the_filters_and_page_last_is_the_last_numbered_page(client):
    for price in (1000, 2000, 3000):
        ListingFactory(price_cents=price)
    ListingFactory(price_cents=99000)
    query = {"max_price": "50", "sort": "price_asc", "page_size": "2"}
    body = client.get("/api/listings/", query).json()
    assert body["count"] == 3 and body["count_is_capped"] is False
    assert "max_price=50" in body["next"] and "sort=price_asc" in body["next"] and "page=2" in body["next"]
    last = client.get("/api/listings/", {**query, "page": "last"}).json()
    assert [item["price_cents"] for item in last["results"]] == [3000] and last["next"] is None
    assert "page=" not in last["previous"] and "max_price=50" in last["previous"]


@pytest.mark.parametrize("after", ["junk", "1_", "_1", "99999999999999999999999_1", "1_99999999999999999999"])
def test_a_cursor_the_api_did_not_make_is_a_400(client, after):
    ListingFactory()
    response = client.get("/api/listings/", {"after": after})
    assert response.status_code == 400
    assert "after" in response.json()["error"]["fields"]


def test_listing_list_query_count_does_not_grow(client, django_assert_num_queries, settings):
    settings.PAGE_CACHE_SECONDS = 0  # a new listing does not empty a cached page (page_cache.py)
    ListingFactory.create_batch(3)
    with django_assert_num_queries(3):  # payable sellers, count, page
        client.get("/api/listings/")
    ListingFactory.create_batch(30)
    with django_assert_num_queries(3):
        client.get("/api/listings/")


def test_listing_detail(client):
    listing = ListingFactory(seller=NewSellerFactory())
    body = client.get(f"/api/listings/{listing.pk}/").json()
    assert body["id"] == listing.pk
    assert body["purchasable"] is False
    assert body["purchase_blocker"]["code"] == "seller_cannot_accept_payments"
    assert body["seller"]["can_accept_payments"] is False


def test_a_sold_listing_detail_says_sold(client):
    listing = ListingFactory(status=ListingStatus.SOLD)
    body = client.get(f"/api/listings/{listing.pk}/").json()
    assert body["status"] == "sold" and body["purchase_blocker"]["code"] == "sold"


@pytest.mark.parametrize("status", [ListingStatus.WITHDRAWN, ListingStatus.DRAFT])
def test_hidden_and_unknown_listings_are_404_in_the_house_shape(client, status):
    hidden = ListingFactory(status=status)
    for path in (f"/api/listings/{hidden.pk}/", "/api/listings/999999/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "listing_not_found"


def test_the_api_is_read_only(client):
    listing = ListingFactory()
    client.force_login(listing.seller)
    assert client.post("/api/listings/", {}).status_code in (403, 405)
    assert client.delete(f"/api/listings/{listing.pk}/").status_code in (403, 405)


def test_a_lapsed_reservation_reads_as_active(client):
    listing = ListingFactory(status=ListingStatus.RESERVED, reserved_by=UserFactory(),
                             reserved_until=timezone.now() - timedelta(minutes=1))
    body = client.get(f"/api/listings/{listing.pk}/").json()
    assert body["status"] == "active" and body["purchasable"] is True


@pytest.mark.parametrize("bad", ["abc", "1.5", "-1", "99999999999999999999999"])
def test_a_malformed_listing_id_is_a_json_404(client, bad):
    response = client.get(f"/api/listings/{bad}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "listing_not_found"


def test_filter_errors_list_plain_messages_per_field(client):
    fields = client.get("/api/listings/", {"min_price": "x"}).json()["error"]["fields"]
    assert fields == {"min_price": [DOLLARS_HELP]}
