"""The watch hearts of a logged-in page served from the shared copy come from the visitor's watched
ids filed in the cache (marketplace.watchlist.watched_listing_ids): a click shows on the very next
page, another visitor's watches never do, and with the cache away they come from the database."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from core import cache_health
from marketplace import watchlist
from marketplace.models import Watch
from marketplace.tests.factories import ListingFactory
from marketplace.watchlist import watch_add, watch_remove, watched_listing_ids

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pressed(page: str, listing_id: int) -> bool:
    """Whether the heart of `listing_id` on the page says the visitor watches it."""
    form = re.search(rf'<form method="post" action="/listings/{listing_id}/watch/".*?</form>', page, re.S)
    assert form, f"no heart for listing {listing_id}"
    return 'aria-pressed="true"' in form.group(0)


def served_from_the_copy(response) -> bool:
    return not any(template.name.endswith("browse.html") for template in response.templates)


def toggle(client, listing_id: int, watch: bool):
    response = client.post(f"/listings/{listing_id}/watch/", {"watch": "1" if watch else "0"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 200


def test_a_watch_and_an_unwatch_show_on_the_next_shared_page_served():
    listing, other = ListingFactory(), ListingFactory()
    logged_in(UserFactory()).get("/")  # files the shared copy
    viewer = logged_in(UserFactory())
    first = viewer.get("/")
    assert served_from_the_copy(first) and not pressed(first.content.decode(), listing.pk)
    toggle(viewer, listing.pk, watch=True)
    page = viewer.get("/")
    assert served_from_the_copy(page)
    assert pressed(page.content.decode(), listing.pk) and not pressed(page.content.decode(), other.pk)
    toggle(viewer, listing.pk, watch=False)
    page = viewer.get("/")
    assert served_from_the_copy(page) and not pressed(page.content.decode(), listing.pk)


def test_another_visitors_watches_never_show():
    listing = ListingFactory()
    watcher, stranger = UserFactory(), UserFactory()
    as_watcher, as_stranger = logged_in(watcher), logged_in(stranger)
    watch_add(user=watcher, listing_id=listing.pk)
    assert pressed(as_watcher.get("/").content.decode(), listing.pk)
    for _ in range(2):  # the second one served with the ids read with the stranger's session
        page = as_stranger.get("/")
        assert served_from_the_copy(page) and not pressed(page.content.decode(), listing.pk)
    assert pressed(as_watcher.get("/").content.decode(), listing.pk)


def test_a_hit_with_the_ids_filed_runs_no_query_and_the_ids_are_the_users_own():
    listing = ListingFactory()
    watcher = UserFactory()
    watch_add(user=watcher, listing_id=listing.pk)
    assert watched_listing_ids(user_id=watcher.pk) == {listing.pk}
    with CaptureQueriesContext(connection) as queries:
        assert watched_listing_ids(user_id=watcher.pk) == {listing.pk}
    assert queries.captured_queries == []
    assert watched_listing_ids(user_id=UserFactory().pk) == frozenset()


@pytest.mark.parametrize("deleted", ["listing", "user", "queryset"])
def test_a_watch_deleted_by_cascade_or_in_bulk_is_dropped_from_the_filed_ids(deleted):
    listing, kept = ListingFactory(), ListingFactory()
    watcher = UserFactory()
    watch_add(user=watcher, listing_id=listing.pk)
    watch_add(user=watcher, listing_id=kept.pk)
    assert watched_listing_ids(user_id=watcher.pk) == {listing.pk, kept.pk}
    if deleted == "listing":
        listing.delete()
        assert watched_listing_ids(user_id=watcher.pk) == {kept.pk}
    elif deleted == "user":
        user_id = watcher.pk
        watcher.delete()
        assert watched_listing_ids(user_id=user_id) == frozenset()
    else:
        Watch.objects.filter(user=watcher).delete()
        assert watched_listing_ids(user_id=watcher.pk) == frozenset()


def test_ids_filed_with_the_marker_from_before_a_change_are_refused():
    """A page read the ids from the database, then a watch changed, then the page filed what it
    read: the marker it filed them with is stale, so they are not used."""
    listing = ListingFactory()
    watcher = UserFactory()
    key, marker_key = watchlist.watched_keys(watcher.pk)
    marker_before = cache.get(marker_key)
    watch_add(user=watcher, listing_id=listing.pk)
    cache.set(key, (marker_before, frozenset()), watchlist.WATCHED_SECONDS)  # filed late
    assert watched_listing_ids(user_id=watcher.pk) == {listing.pk}
    watch_remove(user=watcher, listing_id=listing.pk)
    assert watched_listing_ids(user_id=watcher.pk) == frozenset()


def test_a_watch_made_in_a_transaction_is_forgotten_again_after_the_commit(
        django_capture_on_commit_callbacks):
    listing = ListingFactory()
    watcher = UserFactory()
    assert watched_listing_ids(user_id=watcher.pk) == frozenset()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        watch_add(user=watcher, listing_id=listing.pk)
        # Filed from the rows as this transaction sees them, before its commit.
        watched_listing_ids(user_id=watcher.pk)
    assert callbacks
    assert cache.get(watchlist.watched_keys(watcher.pk)[0]) is None
    assert watched_listing_ids(user_id=watcher.pk) == {listing.pk}


def test_with_the_cache_down_the_hearts_come_from_the_database(settings, monkeypatch):
    listing = ListingFactory()
    watcher = UserFactory()
    viewer = logged_in(watcher)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    monkeypatch.setattr(cache_health, "_down_logged_at", {})
    watch_add(user=watcher, listing_id=listing.pk)  # the cache is not told: logged, not raised
    assert watched_listing_ids(user_id=watcher.pk) == {listing.pk}
    page = viewer.get("/")
    assert page.status_code == 200 and pressed(page.content.decode(), listing.pk)


def test_a_very_long_watchlist_is_not_filed(monkeypatch):
    monkeypatch.setattr(watchlist, "WATCHED_MAX", 1)
    watcher = UserFactory()
    for listing in ListingFactory.create_batch(2):
        watch_add(user=watcher, listing_id=listing.pk)
    assert len(watched_listing_ids(user_id=watcher.pk)) == 2
    assert cache.get(watchlist.watched_keys(watcher.pk)[0]) is None
