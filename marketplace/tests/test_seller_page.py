import pytest

from accounts.tests.factories import NewSellerFactory, SellerFactory, UserFactory
from marketplace.models import ListingStatus
from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def test_seller_page_shows_name_bio_and_listings_on_sale(client):
    seller = SellerFactory(first_name="Patti", last_name="Smith", seller_bio="Collecting since 1975.")
    on_sale = ListingFactory(seller=seller)
    sold = ListingFactory(seller=seller, status=ListingStatus.SOLD)
    withdrawn = ListingFactory(seller=seller, status=ListingStatus.WITHDRAWN)
    ListingFactory()  # someone else's

    response = client.get(f"/sellers/{seller.username}/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "Patti Smith" in content and "Collecting since 1975." in content
    assert "member since" in content and "Takes card payments" in content
    assert [listing.pk for listing in response.context["listings"]] == [on_sale.pk]
    assert f"/listings/{sold.pk}/" not in content and f"/listings/{withdrawn.pk}/" not in content


def test_seller_page_says_when_the_seller_cannot_take_payments(client):
    seller = NewSellerFactory()
    ListingFactory(seller=seller)
    content = client.get(f"/sellers/{seller.username}/").content.decode()
    assert "Not taking payments yet" in content


def test_seller_page_is_paginated(client):
    seller = SellerFactory()
    ListingFactory.create_batch(30, seller=seller)
    assert len(client.get(f"/sellers/{seller.username}/").context["listings"]) == 24
    assert len(client.get(f"/sellers/{seller.username}/", {"page": "2"}).context["listings"]) == 6
    assert client.get(f"/sellers/{seller.username}/", {"page": "zzz"}).status_code == 200


def test_seller_page_query_count_is_constant(client, django_assert_num_queries, settings):
    settings.PAGE_CACHE_SECONDS = 0  # a new listing does not empty a cached page (page_cache.py)
    seller = SellerFactory()
    ListingFactory.create_batch(2, seller=seller)
    # seller, capped count, page + the reputation (rating summary with stubs sold; no feedback)
    # + the problem reports record (problems resolved)
    with django_assert_num_queries(5):
        client.get(f"/sellers/{seller.username}/")
    ListingFactory.create_batch(20, seller=seller)
    # seller, capped count, page + the reputation (rating summary with stubs sold; no feedback)
    # + the problem reports record (problems resolved)
    with django_assert_num_queries(5):
        client.get(f"/sellers/{seller.username}/")


def test_unknown_users_and_non_sellers_have_no_seller_page(client):
    assert client.get("/sellers/nobody-here/").status_code == 404
    buyer = UserFactory()
    assert client.get(f"/sellers/{buyer.username}/").status_code == 404
