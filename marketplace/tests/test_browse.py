import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import NewSellerFactory, SellerFactory, UserFactory
from marketplace.models import Category, ListingStatus
from marketplace.tests.factories import ListingFactory, StubFactory

pytestmark = pytest.mark.django_db


def shown(response):
    return [listing.pk for listing in response.context["listings"]]


def listing_for(price_cents=5000, **stub_fields):
    return ListingFactory(price_cents=price_cents, stub=StubFactory(**stub_fields))


def test_browse_shows_listings_that_can_be_bought_now(client):
    buyable = ListingFactory()
    lapsed = ListingFactory(
        status=ListingStatus.RESERVED, reserved_by=UserFactory(),
        reserved_until=timezone.now() - timedelta(minutes=1),
    )
    held = ListingFactory(
        status=ListingStatus.RESERVED, reserved_by=UserFactory(),
        reserved_until=timezone.now() + timedelta(minutes=10),
    )
    off_sale = (ListingStatus.SOLD, ListingStatus.WITHDRAWN, ListingStatus.DRAFT)
    hidden = [ListingFactory(status=status) for status in off_sale]
    not_payable = ListingFactory(seller=NewSellerFactory())

    response = client.get("/")

    assert response.status_code == 200
    assert set(shown(response)) == {buyable.pk, lapsed.pk}
    assert held.pk not in shown(response) and not_payable.pk not in shown(response)
    assert all(listing.pk not in shown(response) for listing in hidden)


def test_browse_cards_show_event_venue_price_and_seller(client):
    seller = SellerFactory(first_name="Joan", last_name="Jett")
    listing = ListingFactory(seller=seller, price_cents=12_345, stub=StubFactory(
        event_name="Bad Reputation Tour", venue="The Ritz", city="New York"))
    content = client.get("/").content.decode()
    assert "Bad Reputation Tour" in content
    assert "The Ritz, New York" in content
    assert "$123.45" in content
    assert "Joan Jett" in content
    assert f"/listings/{listing.pk}/" in content
    assert "img/stub-placeholder" in content  # no photo: the placeholder


@pytest.mark.parametrize(
    "query", ["springsteen", "Springsteen", "Meadowlands", "rutherford", "born"]
)
def test_search_finds_event_performer_venue_or_city(client, query):
    wanted = listing_for(event_name="Born in the U.S.A. Tour", performer="Bruce Springsteen",
                         venue="Meadowlands Arena", city="East Rutherford")
    listing_for(event_name="Purple Rain", performer="Prince", venue="First Avenue", city="Minneapolis")
    assert shown(client.get("/", {"q": query})) == [wanted.pk]


def test_search_with_several_words_needs_all_of_them(client):
    wanted = listing_for(performer="Bruce Springsteen", city="Philadelphia")
    listing_for(performer="Bruce Hornsby", city="Boston")
    assert shown(client.get("/", {"q": "bruce philadelphia"})) == [wanted.pk]


def test_category_filter(client):
    concert = listing_for(category=Category.CONCERT)
    listing_for(category=Category.SPORTS)
    assert shown(client.get("/", {"category": "concert"})) == [concert.pk]


def test_price_filters_are_in_dollars(client):
    cheap = listing_for(price_cents=999)
    middle = listing_for(price_cents=2500)
    dear = listing_for(price_cents=10_000)
    assert set(shown(client.get("/", {"min_price": "10"}))) == {middle.pk, dear.pk}
    assert set(shown(client.get("/", {"max_price": "25"}))) == {cheap.pk, middle.pk}
    assert shown(client.get("/", {"min_price": "10", "max_price": "99.99"})) == [middle.pk]


def test_event_date_range_filter(client):
    old = listing_for(event_date=datetime.date(1969, 8, 15))
    newer = listing_for(event_date=datetime.date(1985, 7, 13))
    assert shown(client.get("/", {"date_from": "1980-01-01"})) == [newer.pk]
    assert shown(client.get("/", {"date_to": "1970-12-31"})) == [old.pk]
    assert shown(client.get("/", {"date_from": "1969-08-15", "date_to": "1969-08-15"})) == [old.pk]


def test_sorts(client):
    first = listing_for(price_cents=3000, event_date=datetime.date(1990, 1, 1))
    second = listing_for(price_cents=1000, event_date=datetime.date(2000, 1, 1))
    third = listing_for(price_cents=2000, event_date=datetime.date(1980, 1, 1))
    assert shown(client.get("/")) == [third.pk, second.pk, first.pk]  # newest first by default
    assert shown(client.get("/", {"sort": "newest"})) == [third.pk, second.pk, first.pk]
    assert shown(client.get("/", {"sort": "price_asc"})) == [second.pk, third.pk, first.pk]
    assert shown(client.get("/", {"sort": "price_desc"})) == [first.pk, third.pk, second.pk]
    assert shown(client.get("/", {"sort": "event_date"})) == [third.pk, first.pk, second.pk]


def test_pagination_shows_24_per_page(client):
    ListingFactory.create_batch(30)
    first = client.get("/")
    second = client.get("/", {"page": "2"})
    assert len(shown(first)) == 24 and len(shown(second)) == 6
    assert not set(shown(first)) & set(shown(second))
    assert "page=2" in first.content.decode()


def test_pagination_links_keep_the_filters(client):
    for _ in range(25):
        listing_for(category=Category.FILM)
    content = client.get("/", {"category": "film"}).content.decode()
    assert "category=film&amp;page=2" in content


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "99999"},
        {"page": "-1"},
        {"page": "0"},
        {"min_price": "-5"},
        {"min_price": "x"},
        {"max_price": "1e999"},
        {"min_price": "NaN"},
        {"category": "bogus"},
        {"sort": "bogus"},
        {"min_price": "50", "max_price": "10"},
        {"date_from": "yesterday"},
        {"date_from": "2020-01-01", "date_to": "2019-01-01"},
        {"q": "x" * 500},
        {"q": "'\"&|!():*<>"},
        {"q": "\x00"},
    ],
)
def test_bad_parameters_never_break_the_page(client, params):
    ListingFactory()
    response = client.get("/", params)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.context["form"].errors


def test_a_bad_filter_is_explained_and_the_rest_still_applies(client):
    concert = listing_for(category=Category.CONCERT)
    listing_for(category=Category.SPORTS)
    response = client.get("/", {"category": "concert", "min_price": "-5"})
    assert response.status_code == 400
    assert "min_price" in response.context["form"].errors
    assert shown(response) == [concert.pk]
    assert "errorlist" in response.content.decode()


def test_out_of_range_pages_show_the_nearest_page(client):
    ListingFactory.create_batch(3)
    assert len(shown(client.get("/", {"page": "99999"}))) == 3
    assert len(shown(client.get("/", {"page": "abc"}))) == 3


def test_browse_query_count_does_not_grow_with_listings(client, django_assert_num_queries, settings):
    settings.PAGE_CACHE_SECONDS = 0  # a new listing does not empty a cached page (page_cache.py)
    ListingFactory.create_batch(5)
    # payable sellers, capped count, page, what stubs like the page's sold for (one query)
    with django_assert_num_queries(4) as few:
        client.get("/")
    ListingFactory.create_batch(35)
    with django_assert_num_queries(4):
        response = client.get("/")
    assert len(shown(response)) == 24
    assert len(few.captured_queries) == 4


def test_browse_query_count_is_constant_for_a_logged_in_user_too(client, django_assert_num_queries):
    client.force_login(UserFactory())
    ListingFactory.create_batch(3)
    # user, payable sellers, capped count, page, + the page's watched hearts and what stubs like
    # the page's sold for (the session comes from the cache: core.sessions)
    with django_assert_num_queries(6):
        client.get("/")
    ListingFactory.create_batch(30)
    # the same less the user, whose row is read with the session from the second page on, and
    # the hearts, whose watched ids are filed with it (marketplace.personal)
    with django_assert_num_queries(4):
        client.get("/", {"min_price": "1", "sort": "price_desc"})
