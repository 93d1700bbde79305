"""Filing a rendered page (marketplace.page_cache.page_file): never when what it shows changed after
its rendering began, in one round trip on Redis; and served only while nothing it shows changed."""

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import RequestFactory

from marketplace import page_cache

pytestmark = pytest.mark.django_db

KEY = "marketplace:pages:test-filing:page"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.delete_many([KEY, page_cache.listing_key(1), page_cache.seller_key(2)])
    page_cache._known_keys.pop(KEY, None)


@pytest.fixture
def on_redis():
    """These tests need the cache to be Redis (WITH_REDIS=1 scripts/test_postgres.sh)."""
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the cache is not Redis")


def _rendering(started=None):
    """A request whose page shows listing 1 and seller 2, and the version its rendering began at."""
    request = RequestFactory().get("/")
    page_cache.page_begin(request)
    request._page_cache_shows.update({page_cache.listing_key(1), page_cache.seller_key(2)})
    return request, page_cache.catalogue_version() if started is None else started


def test_a_page_is_filed_and_served_while_nothing_it_shows_changed():
    request, started = _rendering()
    page_cache.page_file(request, KEY, started, ("<p>page</p>", "text/html"), 30)
    assert page_cache.page_lookup(KEY)[0] == ("<p>page</p>", "text/html")
    page_cache.keys_changed(keys=[page_cache.seller_key(2)])
    payload, started_again = page_cache.page_lookup(KEY)
    assert payload is None and started_again > started


def test_a_page_whose_listing_changed_while_it_was_drawn_is_not_filed():
    request, started = _rendering()
    page_cache.keys_changed(keys=[page_cache.listing_key(1)])  # a sale while the page is drawn
    page_cache.page_file(request, KEY, started, ("<p>old</p>", "text/html"), 30)
    assert cache.get(KEY) is None


def test_a_copy_filed_with_a_list_of_versions_is_not_served():
    """The form of a copy before: (keys, versions, payload). Never trusted, drawn again."""
    keys = sorted([page_cache.EVERYTHING_KEY, page_cache.listing_key(1), page_cache.seller_key(2)])
    cache.set(KEY, (keys, [0, 0, 0], ("<p>old form</p>", "text/html")), 30)
    assert page_cache.page_lookup(KEY)[0] is None


def test_unchanged_since_asks_for_integers_at_or_below_when_the_drawing_began():
    assert page_cache._unchanged_since(10, [0, 9, 10])
    assert not page_cache._unchanged_since(10, [0, 11])
    assert not page_cache._unchanged_since(10, [None])
    assert not page_cache._unchanged_since([10], [0])


@pytest.mark.parametrize(
    ("version", "filed"),
    [
        # Versions beyond 2^53, as the counter's are (it starts from time.time_ns()): the script
        # must not compare them as Lua numbers, which would round these to the same one.
        (9065071234000000001, False),
        (9065071234000000000, True),
        (9065071233999999999, True),
        (906507123400000000, True),  # fewer digits
        (90650712340000000000, False),  # more digits
        ("not a version", False),  # pickled: never trusted
    ],
)
def test_on_redis_the_filing_script_compares_versions_exactly(on_redis, version, filed):
    started = 9065071234000000000  # above any version the counter of this test run gave out
    cache.set(page_cache.seller_key(2), version, 60)
    request, _ = _rendering(started)
    page_cache.page_file(request, KEY, started, ("<p>page</p>", "text/html"), 30)
    assert (cache.get(KEY) is not None) is filed


def test_on_redis_filing_is_one_round_trip(on_redis, monkeypatch):
    from redis.connection import AbstractConnection

    sent = []
    send = AbstractConnection.send_packed_command
    monkeypatch.setattr(AbstractConnection, "send_packed_command",
                        lambda self, *args, **kwargs: sent.append(1) or send(self, *args, **kwargs))
    request, started = _rendering()
    page_cache.page_file(request, KEY, started, ("<p>page</p>", "text/html"), 30)  # loads the script
    request, started = _rendering()
    sent.clear()
    page_cache.page_file(request, KEY, started, ("<p>again</p>", "text/html"), 30)
    assert len(sent) == 1
    assert page_cache.page_lookup(KEY)[0] == ("<p>again</p>", "text/html")
