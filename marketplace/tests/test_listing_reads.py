"""A listing page's parts read the cache together (marketplace.page_cache.read_ahead,
marketplace.listing_reads): one round trip for more from the seller, the seller's reputation and
the sold prices, one for the other listings' versions with their cards; what a part sees is what
the cache holds, and what is filed or changed during the request is seen as it now is."""

import datetime

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from accounts.tests.factories import SellerFactory
from marketplace import page_cache
from marketplace.listing_reads import listing_page_keys
from marketplace.more_from_seller import copy_key
from marketplace.page_cache import cache_get_many, cache_set, cache_set_many, read_ahead
from marketplace.tests.factories import ListingFactory, StubFactory

pytestmark = pytest.mark.django_db


def test_inside_read_ahead_a_key_read_ahead_costs_no_round_trip(cache_round_trips):
    cache.set_many({"a": 1, "b": 2})
    cache_round_trips.count = 0
    with read_ahead(["a", "b", "missing"]):
        assert cache_round_trips.count == 1
        assert cache_get_many(["a", "missing"]) == {"a": 1}
        assert cache_get_many(["b"]) == {"b": 2}
        assert cache_round_trips.count == 1
        # A key not read ahead is read (one round trip for all such keys of the call) and kept.
        cache.set("c", 3)
        cache_round_trips.count = 0
        assert cache_get_many(["a", "c", "d"]) == {"a": 1, "c": 3}
        assert cache_get_many(["c", "d"]) == {"c": 3}
        assert cache_round_trips.count == 1
    assert cache_get_many(["a", "c"]) == {"a": 1, "c": 3}  # outside: the cache itself again


def test_inside_read_ahead_what_is_filed_is_read_as_filed():
    with read_ahead(["a", "b"]):
        cache_set("a", "new", 60)
        cache_set_many({"b": "also new"}, 60)
        assert cache_get_many(["a", "b"]) == {"a": "new", "b": "also new"}
    assert cache.get_many(["a", "b"]) == {"a": "new", "b": "also new"}


def test_a_change_during_read_ahead_forgets_what_was_read():
    listing = ListingFactory()
    key = page_cache.listing_key(listing.pk)
    with read_ahead([key]):
        before = cache_get_many([key])[key]
        listing.save()  # moves the listing's version on
        assert cache_get_many([key])[key] > before


def test_read_ahead_with_the_cache_away_reads_as_without_it(monkeypatch):
    def down(*_args, **_kwargs):
        raise ConnectionError("down")

    monkeypatch.setattr(cache, "get_many", down)
    with read_ahead(["a"]):
        assert cache_get_many(["a"]) is None


def test_the_listing_page_reads_its_parts_keys_ahead():
    listing = ListingFactory()
    keys = listing_page_keys(listing)
    assert page_cache.VERSION_KEY in keys
    assert copy_key(listing.seller_id, 5) in keys
    assert f"ratings:seller-reputation:{listing.seller_id}" in keys  # ratings registers its keys
    assert any(key.startswith("payments:sold-prices:") for key in keys)  # and payments


def test_a_listing_page_miss_reads_its_parts_in_two_round_trips(client, cache_round_trips):
    """Once the seller's parts are filed, another of the seller's pages (a page-cache miss) costs
    the page's own reads (its lookup, the claim to draw it; filing it and ending the claim: three on
    this cache, one script on Redis) and two for its parts: what they read first, then the other
    listings' versions with their cards."""
    seller = SellerFactory()
    listings = [ListingFactory(seller=seller, stub=StubFactory(performer="The Band", event_date=day))
                for day in (datetime.date(2001, 5, day) for day in (1, 2, 3, 4))]
    for listing in listings[:2]:  # files the seller's parts, every card and the sold prices
        assert client.get(f"/listings/{listing.pk}/").status_code == 200
    cache_round_trips.count = 0
    page = client.get(f"/listings/{listings[2].pk}/")
    assert page.status_code == 200
    assert b"More from this seller" in page.content
    filing = 1 if isinstance(caches["default"], RedisCache) else 3
    assert cache_round_trips.count == 2 + 2 + filing
