"""The default cache: Django's RedisCache, except that the rate limits never fail with Redis.

django-ratelimit counts in this cache (RATELIMIT_USE_CACHE) and catches only `socket.gaierror`
around its `add` and `incr`: with Redis unreachable, redis-py's ConnectionError reached the view
as a 500, so a Redis outage took down logging in, checkout, refunds and every other limited POST.

What a limit does while Redis cannot be reached is a choice between three answers:

- fail open (count nothing): anyone who can make Redis slow or unreachable lifts every limit
  at once, the log-in form's brute-force limit first;
- fail closed (429, or 503 on the money routes): a cache outage, which costs nothing else but
  slower pages, becomes a site outage, and a checkout refused loses a sale the database, Stripe
  and every other check could have made safely;
- count in the process (this module): every limit still holds, per process. With N processes
  (gunicorn workers on every host) a caller gets at most N times the rate while Redis is away,
  still a bound, for the few minutes an outage lasts. Money is not guarded by these counters
  alone: a hold, an order and a refund are each decided under a database row lock, with the
  buyer's live holds capped in the database and Stripe's idempotency keys from database rows.

So rate-limit counters (keys under RATELIMIT_CACHE_PREFIX, `rl:`) fall back to a local-memory
counter of this process whenever Redis does not answer, and skip Redis for RETRY_SECONDS after a
failure, so an outage costs one connect timeout per process every few seconds rather than two per
limited request. Every other key behaves exactly as in Django's RedisCache (its callers catch the
outage themselves: core.sessions, marketplace.page_cache). Counts made locally stay local: when
Redis answers again the limits count there again, from whatever Redis kept.
"""

import logging
import time

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

from core.cache_health import CACHE_DOWN, cache_down

# After Redis failed a rate-limit count, the process counts alone this long before asking again.
RETRY_SECONDS = 5.0
# A counter made by `incr` alone (Redis took the `add`, then went away) lives this long: longer
# than any rate's window (django-ratelimit's longest period is a day), and the window is part of
# the key, so a longer life never carries a count into the next window.
LOCAL_COUNTER_SECONDS = 24 * 3600
# One per process (LocMemCache shares its storage by name between instances of the process).
# Enough entries for every caller of every limited route in an outage of a few minutes; culling
# past them forgets counts (lets some callers through), it never blocks anybody.
_local = LocMemCache("core.rate_limit_cache", {"OPTIONS": {"MAX_ENTRIES": 50_000, "CULL_FREQUENCY": 10}})
_redis_skipped_until = 0.0
logger = logging.getLogger(__name__)


def _rate_limit_key(key) -> bool:
    return isinstance(key, str) and key.startswith(getattr(settings, "RATELIMIT_CACHE_PREFIX", "rl:"))


def _redis_skipped() -> bool:
    return time.monotonic() < _redis_skipped_until


def _redis_down(error: Exception) -> None:
    global _redis_skipped_until
    _redis_skipped_until = time.monotonic() + RETRY_SECONDS
    cache_down(error, consequence="rate limits are counted by each process alone", logger=logger)


def _local_incr(key, delta: int, version) -> int:
    if _local.add(key, delta, LOCAL_COUNTER_SECONDS, version):
        return delta
    return _local.incr(key, delta, version)


def _counted(in_redis, in_process):
    """A rate-limit counter's operation: in Redis unless it is away, then in the process."""
    if not _redis_skipped():
        try:
            return in_redis()
        except CACHE_DOWN as error:
            _redis_down(error)
    return in_process()


class ReusedClientCacheClient(RedisCacheClient):
    """Django's RedisCacheClient, one redis.Redis per connection pool instead of one per command.

    Django builds a new redis.Redis for every cache operation, and redis-py's constructor copies
    its table of ~200 response callbacks into a case-insensitive dict each time: about a tenth of
    the CPU of a logged-in listing page that the page cache misses (eight cache round trips;
    bench/listing_miss.py's profile). A redis.Redis over a pool holds no connection of its own and
    is safe to share (Django's cache handler gives every thread its own backend anyway).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """settings.CACHES["default"] whenever CACHE_URL is a Redis URL (stubcollector/settings.py)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientCacheClient

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        redis_add = super().add
        if not _rate_limit_key(key):
            return redis_add(key, value, timeout, version)
        return _counted(lambda: redis_add(key, value, timeout, version),
                        lambda: _local.add(key, value, timeout, version))

    def incr(self, key, delta=1, version=None):
        redis_incr = super().incr
        if not _rate_limit_key(key):
            return redis_incr(key, delta, version)
        return _counted(lambda: redis_incr(key, delta, version), lambda: _local_incr(key, delta, version))

    def get(self, key, default=None, version=None):
        redis_get = super().get
        if not _rate_limit_key(key):
            return redis_get(key, default, version)
        return _counted(lambda: redis_get(key, default, version), lambda: _local.get(key, default, version))
