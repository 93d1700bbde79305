"""Browse paging without an exact count: numbered pages up to the capped count, then a cursor."""

import re

import pytest

from marketplace import selectors
from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 48)  # two numbered pages of 24


def shown(response):
    return [listing.pk for listing in response.context["listings"]]


def next_link(response) -> str:
    match = re.search(r'href="\?([^"]*)" rel="next"', response.content.decode())
    return match and match[1].replace("&amp;", "&")


def walk(client, query=""):
    """Every listing, page after page, following the Next links as a visitor would."""
    seen, response = [], client.get("/?" + query)
    while True:
        seen += shown(response)
        link = next_link(response)
        if not link:
            return seen
        response = client.get("/?" + link)


def test_next_links_go_past_the_numbered_pages_and_show_every_listing_once(client, small_cap):
    listings = ListingFactory.create_batch(80)
    newest_first = [x.pk for x in sorted(listings, key=lambda x: (x.created_at, x.pk), reverse=True)]
    assert walk(client) == newest_first
    cheapest_first = [listing.pk for listing in sorted(listings, key=lambda x: (x.price_cents, x.pk))]
    assert walk(client, "sort=price_asc") == cheapest_first


def test_prices_that_tie_are_not_skipped_or_repeated(client, small_cap):
    listings = [ListingFactory(price_cents=1000 + 100 * (n % 3)) for n in range(75)]
    expected = [listing.pk for listing in sorted(listings, key=lambda x: (-x.price_cents, -x.pk))]
    assert walk(client, "sort=price_desc") == expected


def test_the_count_is_capped_and_said_so(client, small_cap):
    ListingFactory.create_batch(50)
    page = client.get("/").content.decode()
    assert "48+ stubs for sale" in page
    assert "Page 1 of 2+" in page


def test_a_page_number_past_the_numbered_pages_shows_the_last_of_them(client, small_cap):
    ListingFactory.create_batch(60)
    response = client.get("/", {"page": "9999"})
    assert response.status_code == 200
    assert response.context["page"].number == 2
    assert "after=" in next_link(response)  # and Next goes on with the cursor


JUNK_CURSORS = ["abc", "1_", "_1", "9" * 30 + "_1", "1_" + "9" * 25, "-5_-5", "1_2_3", "²_1", "1_" + "9" * 20]


@pytest.mark.parametrize("cursor", JUNK_CURSORS)
def test_a_cursor_we_did_not_make_is_the_first_page(client, cursor):
    listing = ListingFactory()
    response = client.get("/", {"after": cursor})
    assert response.status_code == 200
    assert shown(response) == [listing.pk]


@pytest.mark.parametrize("sort", ["newest", "price_asc", "event_date"])
@pytest.mark.parametrize("key", ["9" * 20, "-" + "9" * 20, "0"])
def test_a_well_formed_cursor_out_of_any_range_is_never_an_error(client, sort, key):
    ListingFactory()
    assert client.get("/", {"after": f"{key}_1", "sort": sort}).status_code == 200


def test_a_cursor_page_costs_the_same_queries_whatever_the_catalogue(
    client, small_cap, django_assert_num_queries, settings
):
    settings.PAGE_CACHE_SECONDS = 0  # a new listing does not empty a cached page (page_cache.py)
    ListingFactory.create_batch(60)
    link = next_link(client.get("/", {"page": "2"}))
    assert link and "after=" in link
    # payable sellers, the page (no count), what stubs like the page's sold for
    with django_assert_num_queries(3):
        client.get("/?" + link)
    ListingFactory.create_batch(60)
    link = next_link(client.get("/", {"page": "2"}))
    with django_assert_num_queries(3):
        client.get("/?" + link)


def test_a_numbered_page_past_the_first_costs_the_same_queries_whatever_the_catalogue(
    client, django_assert_num_queries
):
    ListingFactory.create_batch(30)
    # payable sellers, capped count, ids of the page, its rows, what stubs like them sold for
    with django_assert_num_queries(5):
        client.get("/", {"page": "2"})
    ListingFactory.create_batch(60)
    with django_assert_num_queries(5):
        client.get("/", {"page": "3"})
