"""What a cache that cannot be reached looks like, and the warning that says so.

Everything that reads the cache on a request's way (sessions, core/sessions.py; catalogue pages,
marketplace/page_cache.py) carries on without it when Redis is away: it catches CACHE_DOWN and
calls `cache_down`, which logs one warning a minute per process and per consequence, so an
outage is in the logs without a line per request.
"""

import logging
import time

from redis.exceptions import RedisError

# What a cache that cannot be reached raises (Django's Redis backend: redis-py's errors).
CACHE_DOWN = (RedisError, OSError)
WARN_EVERY = 60.0  # seconds
# When each consequence was last logged (time.monotonic()); tests reset it.
_down_logged_at: dict[str, float] = {}
_logger = logging.getLogger(__name__)


def cache_down(error: Exception, *, consequence: str, logger: logging.Logger = _logger) -> None:
    """The cache could not be reached: say so, with what it means (`consequence`), at most once a
    minute per consequence, on the caller's logger."""
    now = time.monotonic()
    last = _down_logged_at.get(consequence)
    if last is None or now - last >= WARN_EVERY:
        _down_logged_at[consequence] = now
        logger.warning("The cache cannot be reached (%s): %s", error, consequence)
