"""The anonymous page cache (marketplace.page_cache): fast, and never stale about a sale."""

import pytest

from accounts.tests.factories import UserFactory
from core import cache_health
from marketplace import page_cache
from marketplace.models import Listing, ListingStatus
from marketplace.services import listing_mark_sold, listing_reserve, listing_update
from marketplace.tests.factories import ListingFactory, StubFactory
from marketplace.tests.page_cache_clock import clock_of_waits

pytestmark = pytest.mark.django_db

BUY = "Buy for $"


def test_a_repeated_anonymous_page_is_served_without_sql(client, django_assert_num_queries):
    listing = ListingFactory()
    first = client.get("/")
    with django_assert_num_queries(0):
        again = client.get("/")
    assert again.status_code == 200
    assert again.content == first.content
    detail = client.get(f"/listings/{listing.pk}/")
    with django_assert_num_queries(0):
        assert client.get(f"/listings/{listing.pk}/").content == detail.content


def test_an_anonymous_hit_is_one_cache_round_trip_whatever_the_listings_it_shows(client, cache_round_trips):
    ListingFactory.create_batch(30)
    client.get("/")  # files the page (and this process remembers what it shows)
    for _ in range(2):
        cache_round_trips.count = 0
        assert client.get("/").status_code == 200
        assert cache_round_trips.count == 1


def test_a_process_that_never_saw_the_page_still_checks_it_against_what_it_shows(client):
    """Another process (or one whose memory was emptied) reads the page's keys from the copy."""
    listing = ListingFactory()
    assert BUY in client.get(f"/listings/{listing.pk}/").content.decode()
    page_cache._known_keys.clear()
    listing_mark_sold(listing_id=listing.pk, buyer=UserFactory())
    assert BUY not in client.get(f"/listings/{listing.pk}/").content.decode()


def test_a_copy_is_checked_against_its_own_keys_not_those_the_process_remembers(client):
    """The process remembered other keys for the address (an older copy showed other listings):
    the copy's own are read before it is served."""
    listing = ListingFactory()
    client.get("/")
    page_cache._known_keys.update(dict.fromkeys(page_cache._known_keys, (page_cache.EVERYTHING_KEY,)))
    listing_mark_sold(listing_id=listing.pk, buyer=UserFactory())
    assert f"/listings/{listing.pk}/" not in client.get("/").content.decode()


def test_detail_page_shows_a_just_sold_listing_as_sold_not_buyable(client):
    listing = ListingFactory()
    assert BUY in client.get(f"/listings/{listing.pk}/").content.decode()  # now cached
    listing_mark_sold(listing_id=listing.pk, buyer=UserFactory())
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert BUY not in page
    assert "Sold" in page


def test_detail_page_shows_a_just_reserved_listing_as_reserved(client):
    listing = ListingFactory()
    assert BUY in client.get(f"/listings/{listing.pk}/").content.decode()
    listing_reserve(listing_id=listing.pk, buyer=UserFactory())
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert BUY not in page
    assert "Reserved" in page


def test_browse_and_seller_pages_drop_a_sold_listing_at_once(client):
    kept, sold = ListingFactory(), ListingFactory()
    seller_page = f"/sellers/{sold.seller.username}/"
    assert {kept.pk, sold.pk} <= {listing.pk for listing in client.get("/").context["listings"]}
    assert sold.stub.event_name in client.get(seller_page).content.decode()
    listing_mark_sold(listing_id=sold.pk, buyer=UserFactory())
    browse = client.get("/")
    assert [listing.pk for listing in browse.context["listings"]] == [kept.pk]  # rendered afresh
    assert f"/listings/{sold.pk}/" not in client.get(seller_page).content.decode()


def test_the_listings_api_drops_a_sold_listing_at_once(client, django_assert_num_queries):
    kept, sold = ListingFactory(), ListingFactory()
    ids = lambda: {item["id"] for item in client.get("/api/listings/").json()["results"]}  # noqa: E731
    assert ids() == {kept.pk, sold.pk}
    with django_assert_num_queries(0):
        assert ids() == {kept.pk, sold.pk}
    listing_mark_sold(listing_id=sold.pk, buyer=UserFactory())
    assert ids() == {kept.pk}


def test_each_host_gets_its_own_cached_copy(client, settings):
    settings.ALLOWED_HOSTS = ["stubs.example", "other.example"]
    ListingFactory.create_batch(2)

    first = client.get("/api/listings/?page_size=1", HTTP_HOST="stubs.example").json()
    other = client.get("/api/listings/?page_size=1", HTTP_HOST="other.example").json()

    assert first["next"].startswith("http://stubs.example/")
    assert other["next"].startswith("http://other.example/")


def test_a_price_or_stub_edit_shows_at_once(client):
    listing = ListingFactory(price_cents=5000, stub=StubFactory(event_name="Old name"))
    assert "Old name" in client.get(f"/listings/{listing.pk}/").content.decode()
    listing_update(listing_id=listing.pk, seller=listing.seller, price_cents=7000, event_name="New name",
                   **{f: getattr(listing.stub, f) for f in ("performer", "venue", "city", "event_date",
                                                            "category", "condition", "description")})
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert "New name" in page and "$70.00" in page


def test_a_page_rendered_before_the_sale_committed_is_not_served_after_it(
    client, django_capture_on_commit_callbacks
):
    """The counter moves again after the commit: a page cached while the sale was in flight
    (rendered from the rows as they were before it) is filed under a version nobody asks for."""
    listing = ListingFactory()
    detail = f"/listings/{listing.pk}/"
    with django_capture_on_commit_callbacks() as after_commit:
        listing_mark_sold(listing_id=listing.pk, buyer=UserFactory())
        # Another request that still sees the rows as they were renders and caches the old page.
        Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.ACTIVE)
        assert BUY in client.get(detail).content.decode()
        Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.SOLD)
    assert after_commit
    for callback in after_commit:  # the commit
        callback()
    assert BUY not in client.get(detail).content.decode()


def test_logged_in_visitors_get_their_own_page(client):
    ListingFactory()
    client.get("/")  # cached for anonymous visitors
    user = UserFactory(username="someone_logged_in")
    client.force_login(user)
    assert "someone_logged_in" in client.get("/").content.decode()


def test_bad_filters_are_not_cached(client, django_assert_num_queries):
    ListingFactory()
    assert client.get("/", {"min_price": "abc"}).status_code == 400
    response = client.get("/", {"min_price": "abc"})
    assert response.status_code == 400
    assert response.context is not None  # rendered, not replayed


def test_the_cache_can_be_turned_off(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    ListingFactory()
    client.get("/")
    assert client.get("/").context is not None


def test_the_pages_cached_for_anonymous_visitors_hold_no_csrf_token(client):
    """A token in a shared cached page would be one visitor's token served to everyone: any form
    added for anonymous visitors on these pages must not carry one (or the page is not cached)."""
    listing = ListingFactory()
    pages = ("/", f"/listings/{listing.pk}/", f"/sellers/{listing.seller.username}/", "/api/listings/")
    for address in pages:
        assert "csrfmiddlewaretoken" not in client.get(address).content.decode(), address


# -- a cache that cannot be reached ---------------------------------------------------------------


@pytest.fixture
def cache_unreachable(settings, monkeypatch):
    """Redis as the cache, on a port where nothing listens: what a Redis outage looks like. The
    warning is logged at most once a minute per process; an earlier test in this worker may have
    just logged it."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    monkeypatch.setattr(cache_health, "_down_logged_at", {})


def test_with_the_cache_down_catalogue_pages_are_served_uncached(client, cache_unreachable, caplog):
    listing = ListingFactory()
    for url in ("/", f"/listings/{listing.pk}/", f"/sellers/{listing.seller.username}/", "/api/listings/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert listing.stub.event_name in response.content.decode()
    assert "The cache cannot be reached" in caplog.text


def test_with_the_cache_down_a_listing_can_still_be_changed_and_sold(cache_unreachable):
    listing = ListingFactory(price_cents=5000)
    listing_update(listing_id=listing.pk, seller=listing.seller, price_cents=4500)
    listing_mark_sold(listing_id=listing.pk, buyer=UserFactory())
    listing.refresh_from_db()
    assert (listing.price_cents, listing.status) == (4500, ListingStatus.SOLD)


# -- the hit's read on Redis (one MGET of keys named once) -------------------------------------------


@pytest.fixture
def on_redis():
    """These tests need the cache to be Redis (WITH_REDIS=1 scripts/test_postgres.sh)."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the cache is not Redis")


def test_on_redis_a_hit_reads_with_one_mget_and_a_reservation_or_sale_shows_at_once(
        client, on_redis, cache_round_trips, django_assert_num_queries):
    listing = ListingFactory()
    address = f"/listings/{listing.pk}/"
    assert BUY in client.get(address).content.decode()
    cache_round_trips.count = 0
    with django_assert_num_queries(0):
        assert BUY in client.get(address).content.decode()
    assert cache_round_trips.count == 1
    assert page_cache._raw_keys  # the hit went the MGET way, with its keys named once
    listing_reserve(listing_id=listing.pk, buyer=UserFactory())
    assert BUY not in client.get(address).content.decode()
    listing_mark_sold(listing_id=listing.pk, buyer=UserFactory())
    page = client.get(address).content.decode()
    assert BUY not in page and "Sold" in page
    assert f"/listings/{listing.pk}/" not in client.get("/").content.decode()


def test_on_redis_a_dependency_whose_value_is_not_a_version_is_never_trusted(client, on_redis):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    listing = ListingFactory()
    client.get("/")
    client.get("/")  # remembered: the next hit reads the versions with the page
    cache.set(page_cache.listing_key(listing.pk), "not a version", 60)  # pickled, not an integer
    with CaptureQueriesContext(connection) as rendered:
        assert client.get("/").status_code == 200
    assert rendered.captured_queries  # drawn again, not served from the copy


def test_a_version_read_raw_is_an_integer_or_nothing():
    assert page_cache._version(None) == 0
    assert page_cache._version(b"1765071234000000000") == 1765071234000000000
    assert page_cache._version(b"\x80\x05\x95") is None


def test_the_raw_read_is_not_used_on_a_cache_other_than_redis(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert page_cache._redis() is None


def _past_its_time(address: str, view, variant: str = "") -> str:
    """Make the copy filed for `address` due to be drawn again, as PAGE_CACHE_SECONDS later; its key."""
    from django.core.cache import cache
    from django.test import RequestFactory

    key = page_cache.page_key(RequestFactory().get(address), view, variant)
    keys, started, payload, _fresh_until = cache.get(key)
    cache.set(key, (keys, started, payload, 0), 60)
    return key


def test_a_copy_past_its_time_is_drawn_again_by_one_request_while_the_others_are_served_it(
        client, django_assert_num_queries):
    from django.core.cache import cache

    from marketplace import views

    listing = ListingFactory()
    address = f"/listings/{listing.pk}/"
    first = client.get(address).content
    key = _past_its_time(address, views.listing_detail)
    cache.add(f"{key}:drawing", 1)  # another request is drawing it
    with django_assert_num_queries(0):
        assert client.get(address).content == first
    cache.delete(f"{key}:drawing")  # that request died: the claim lapsed
    drawn = client.get(address)
    assert drawn.templates and BUY in drawn.content.decode()
    assert cache.get(f"{key}:drawing") is None  # its claim ended when it filed the page
    with django_assert_num_queries(0):
        assert client.get(address).content == drawn.content


def test_a_copy_past_its_time_is_not_served_once_a_listing_on_it_is_sold(client, monkeypatch):
    from django.core.cache import cache

    from marketplace import views

    listing = ListingFactory()
    address = f"/listings/{listing.pk}/"
    assert BUY in client.get(address).content.decode()
    key = _past_its_time(address, views.listing_detail)
    cache.add(f"{key}:drawing", 1)  # another request is drawing it
    listing_mark_sold(listing_id=listing.pk, buyer=UserFactory())
    waits = clock_of_waits(monkeypatch)
    page = client.get(address).content.decode()
    assert BUY not in page and "Sold" in page
    assert sum(waits) == pytest.approx(page_cache.WAIT_SECONDS, abs=page_cache.WAIT_STEP_SECONDS)


def test_a_copy_filed_in_the_older_form_is_drawn_again(client):
    from django.core.cache import cache

    from marketplace import views

    listing = ListingFactory()
    address = f"/listings/{listing.pk}/"
    client.get(address)
    key = _past_its_time(address, views.listing_detail)
    keys, started, payload, _ = cache.get(key)
    cache.set(key, (keys, started, payload), 60)  # as filed before copies said when they are due
    assert client.get(address).templates


def test_a_request_that_finds_the_page_being_drawn_waits_for_that_copy(
        client, monkeypatch, django_assert_num_queries):
    """The cache was emptied (or the copy refused after a sale) and another request is drawing the
    page: this one is served that request's copy instead of drawing the page too."""
    from django.core.cache import cache
    from django.test import RequestFactory

    from marketplace import views

    listing = ListingFactory()
    address = f"/listings/{listing.pk}/"
    first = client.get(address).content
    key = page_cache.page_key(RequestFactory().get(address), views.listing_detail)
    copy = cache.get(key)
    cache.delete(key)
    cache.add(f"{key}:drawing", 1)  # another request is drawing it

    def the_other_request_files_it():
        if len(waits) == 3:
            cache.set(key, copy, 60)
            cache.delete(f"{key}:drawing")

    waits = clock_of_waits(monkeypatch, the_other_request_files_it)
    with django_assert_num_queries(0):
        assert client.get(address).content == first
    assert len(waits) == 3


def test_a_request_waits_for_another_drawing_no_longer_than_wait_seconds(client, monkeypatch):
    from django.core.cache import cache
    from django.test import RequestFactory

    from marketplace import views

    listing = ListingFactory()
    address = f"/listings/{listing.pk}/"
    key = page_cache.page_key(RequestFactory().get(address), views.listing_detail)
    cache.add(f"{key}:drawing", 1)  # a drawing that never ends (its request hangs)
    waits = clock_of_waits(monkeypatch)
    page = client.get(address)
    assert page.templates and BUY in page.content.decode()  # drawn by this request after all
    assert sum(waits) == pytest.approx(page_cache.WAIT_SECONDS, abs=page_cache.WAIT_STEP_SECONDS)


def test_a_drawing_that_files_nothing_ends_its_claim(client, settings):
    """A page that is not filed (a 404 here, an error, a page for one visitor) must not make the
    next visitors wait for a copy that never comes."""
    from django.core.cache import cache
    from django.test import RequestFactory

    from marketplace import views

    address = "/listings/999999/"
    assert client.get(address).status_code == 404
    key = page_cache.page_key(RequestFactory().get(address), views.listing_detail)
    assert cache.get(f"{key}:drawing") is None
    assert not page_cache._claims.keys


@pytest.mark.postgres
def test_visitors_asking_at_once_for_a_page_nobody_has_draw_it_once(transactional_db, on_redis, monkeypatch):
    """Eight anonymous visitors at the same moment, the page's copy gone: one draws it, the
    others are served its copy (Redis's SET NX is the claim; PostgreSQL so each has a connection)."""
    from django.test import Client

    from testing.threads import run_at_once

    listing = ListingFactory()
    address = f"/listings/{listing.pk}/"
    drawings = []
    begin = page_cache.page_begin
    monkeypatch.setattr(page_cache, "page_begin", lambda request: (drawings.append(1), begin(request)))
    pages = run_at_once([lambda: Client().get(address) for _ in range(8)])
    assert all(page.status_code == 200 and BUY in page.content.decode() for page in pages)
    assert len({page.content for page in pages}) == 1
    assert len(drawings) == 1


def test_a_cache_gone_between_the_lookup_and_the_version_leaves_no_claim(client, monkeypatch):
    """The page is served uncached, and no claim is left to make the next visitors wait."""
    from django.core.cache import cache
    from django.test import RequestFactory

    from marketplace import views

    listing = ListingFactory()
    address = f"/listings/{listing.pk}/"
    cache.delete(page_cache.VERSION_KEY)
    monkeypatch.setattr(page_cache, "catalogue_version", lambda: None)
    assert BUY in client.get(address).content.decode()
    key = page_cache.page_key(RequestFactory().get(address), views.listing_detail)
    assert cache.get(f"{key}:drawing") is None
