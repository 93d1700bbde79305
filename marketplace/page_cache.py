"""A short whole-page cache for anonymous visitors of the catalogue pages, never stale on a sale.

Browse, seller and listing pages (and /api/listings/) cost 10-40 ms of Python and SQL each, the
minimal Django page about 3 ms; most visitors are anonymous and see exactly the same page for the
same address. So an anonymous GET (no session cookie, no pending message, so nothing personal and
no CSRF token on the page) is answered from the cache when it can be.

Correctness over hit rate: every cached page carries the *catalogue version* it was rendered
under, a counter that any saved or deleted Listing, Stub or seller moves on, both at once and
again once the transaction has committed, and is served only while that version is current (a
page rendered from the old rows meanwhile carries a version that is no longer). One round trip
reads the version and the page together. So a listing that was just reserved or bought is never shown as
buyable from the cache: the next request renders afresh. What the cache may still show for up
to PAGE_CACHE_SECONDS: a reservation that has lapsed by the clock alone (no save) still shown
as reserved, or a seller rating a few seconds old. The buy path never trusts a page anyway: it
re-checks the listing under its row lock (marketplace.services.listing_reserve).

The counter needs a cache shared by every process (Redis in production; core.checks
refuses a process-local cache with DEBUG off). PAGE_CACHE_SECONDS=0 turns the cache off.
"""

import hashlib
import logging
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from redis.exceptions import RedisError

VERSION_KEY = "marketplace:catalogue-version"
# What a cache that cannot be reached raises (Django's Redis backend: redis-py's errors).
CACHE_DOWN = (RedisError, OSError)
_DOWN_LOG_EVERY = 60.0  # seconds: one warning a minute per process while the cache is down
_down_logged_at = 0.0
logger = logging.getLogger(__name__)


def page_cache_seconds() -> int:
    return getattr(settings, "PAGE_CACHE_SECONDS", 30)


def cache_down(error: Exception) -> None:
    """The cache could not be reached: say so (now and then), and carry on without it."""
    global _down_logged_at
    now = time.monotonic()
    if now - _down_logged_at >= _DOWN_LOG_EVERY:
        _down_logged_at = now
        logger.warning("The cache cannot be reached (%s): catalogue pages are served uncached", error)


def cache_get_many(keys: list[str]) -> dict | None:
    """cache.get_many (one round trip on Redis), or None when the cache cannot be reached."""
    try:
        return cache.get_many(keys)
    except CACHE_DOWN as error:
        cache_down(error)
        return None


def cache_set(key: str, value, seconds: int) -> None:
    """cache.set, or nothing when the cache cannot be reached."""
    try:
        cache.set(key, value, seconds)
    except CACHE_DOWN as error:
        cache_down(error)


def catalogue_version() -> int | None:
    """The current catalogue version; None when the cache cannot be reached (then nothing is read
    from or filed in the cache: a cache outage makes pages slower, never wrong or failing)."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            # A fresh or flushed cache: start from a new number, never one a page may be filed under.
            version = time.time_ns()
            cache.add(VERSION_KEY, version, timeout=None)
            version = cache.get(VERSION_KEY, version)
    except CACHE_DOWN as error:
        cache_down(error)
        return None
    return version


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no counter yet: nothing can be cached under it either
        pass
    except CACHE_DOWN as error:
        # A save must not fail because the cache is away. A cache that comes back empty (Redis
        # keeps no data here) starts a new version; one that was only unreachable may serve pages
        # missing this change until they expire (PAGE_CACHE_SECONDS).
        cache_down(error)


def catalogue_changed(**_kwargs) -> None:
    """Signal receiver: pages cached so far no longer count (now, and again after the commit)."""
    _bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump)


def seller_changed(sender, instance, update_fields=None, **kwargs) -> None:
    """A seller's name or payment status shows on their cards; a buyer's login does not."""
    if getattr(instance, "is_seller", False) and set(update_fields or ()) != {"last_login"}:
        catalogue_changed()


def _is_anonymous_and_plain(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def anonymous_page_cache(view):
    """Serve the view's 200 answers to anonymous visitors from the cache (see the module doc)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = page_cache_seconds()
        if not seconds or not _is_anonymous_and_plain(request):
            return view(request, *args, **kwargs)
        # The whole address, scheme and validated host included: a page can carry absolute links
        # (the API's `next`), and one host's copy must never answer another host's visitors.
        address = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()[:32]
        key = f"marketplace:page:{view.__name__}:{address}"
        # One round trip for the current version and the page: a page is served only if it was
        # rendered under the version that is current now.
        found = cache_get_many([VERSION_KEY, key])
        version = None if found is None else found.get(VERSION_KEY) or catalogue_version()
        if version is None:  # the cache cannot be reached
            return view(request, *args, **kwargs)
        cached = found.get(key)
        if cached is not None and cached[0] == version:
            _, content, content_type = cached
            return HttpResponse(content, content_type=content_type)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False):
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            # The version read before rendering: if a change moved it on meanwhile, this copy is
            # never served.
            cache_set(key, (version, response.content, response["Content-Type"]), seconds)
        return response

    return wrapper
