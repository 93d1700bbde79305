"""The cast of marketplace's tests: a buyer, an active listing, and the moment the rules are
asked at; the S3 bucket on moto's server for the photo storage tests (testing/s3.py)."""

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from testing.s3 import s3_media, s3_server  # noqa: F401 (fixtures, for test_photos_s3.py)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def listing():
    return ListingFactory()


@pytest.fixture
def cache_round_trips(monkeypatch):
    """Counts the calls a request makes to the default cache, each one round trip on Redis (a
    get_many is one, whatever the number of keys): `cache_round_trips.count`, reset with
    `cache_round_trips.count = 0`. The local-memory cache of the tests answers get_many with get,
    so only the outermost call counts."""
    from django.core.cache import caches

    backend = caches["default"]
    counter = type("RoundTrips", (), {"count": 0, "depth": 0})()

    def counted(method):
        def call(*args, **kwargs):
            counter.count += counter.depth == 0
            counter.depth += 1
            try:
                return method(*args, **kwargs)
            finally:
                counter.depth -= 1
        return call

    for name in ("get", "get_many", "set", "set_many", "add", "incr", "delete", "delete_many", "has_key",
                 "touch"):
        monkeypatch.setattr(backend, name, counted(getattr(backend, name)))
    if hasattr(backend, "_cache") and hasattr(backend._cache, "get_client"):
        # On Redis the page cache's hit reads with the client's MGET, not through the backend:
        # count what the connection sends outside a counted backend call (one per round trip).
        from redis.connection import AbstractConnection

        monkeypatch.setattr(AbstractConnection, "send_packed_command",
                            counted(AbstractConnection.send_packed_command))
    return counter
