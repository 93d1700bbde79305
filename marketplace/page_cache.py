"""A short whole-page cache for anonymous visitors of the catalogue pages, never stale on a sale,
and not emptied by changes to listings the page does not show.

Browse, seller and listing pages (and /api/listings/) cost 10-40 ms of Python and SQL each, the
minimal Django page about 3 ms; most visitors are anonymous and see exactly the same page for the
same address. So an anonymous GET (no session cookie, no pending message, so nothing personal and
no CSRF token on the page) is answered from the cache when it can be. Logged-in visitors get a
copy of their own, shared by all of them, with their personal bits filled in per request
(marketplace.personal, under the same rules as here).

Correctness over hit rate: every cached page records what it shows, its *dependencies* (the
listings on it, the sellers whose names, ratings and payment status it shows; `page_shows`), and
the catalogue version its rendering began at, and is served only while none of them has a version
past that one (filed at all only then: one round trip on Redis, `page_file`). Any saved or
deleted Listing (its stub or photos too) moves that listing's version on, a seller's save or new
feedback the seller's, both at once and again once the transaction has committed. One round trip
reads the page and the versions of what it shows (the process remembers which keys the page at
that address showed last time; a second trip when they differ).
So a listing that was just reserved or bought is never shown as buyable from the cache, and a save
elsewhere in the catalogue leaves the page where it is. What the cache may still show for up to
PAGE_CACHE_SECONDS: a listing put on sale (or back on sale) since, on a page that did not show it;
a reservation that has lapsed by the clock alone (no save) still shown as reserved; "N stubs sold"
after an order change. The buy path never trusts a page anyway: it re-checks the listing under
its row lock (marketplace.services.listing_reserve).

A page is drawn by one request at a time: the first to find no copy it may serve claims the
drawing (DRAWING_SECONDS at most; filing the copy ends the claim) and the others wait for its copy
(WAIT_SECONDS at most, then draw it themselves), or, when the copy is only past PAGE_CACHE_SECONDS
and nothing it shows has changed, are served that copy meanwhile. Without that, every request
arriving while the page was being drawn drew it too: a text search at a million listings costs
~100 ms of SQL, and sixteen visitors asking as its copy expired (or as a popular page's copy was
refused after a sale, or the cache was emptied) ran sixteen of them at once (docs/performance.md).
So what may show up PAGE_CACHE_SECONDS late may show up DRAWING_SECONDS later still when a drawing
fails.

A version is a value of one counter (VERSION_KEY) that every change moves on, so a page whose
rendering began before a change (the counter read first) can tell that change from older ones and
is not filed. The counter and versions need a cache shared by every process (Redis in production;
core.checks refuses a process-local cache with DEBUG off). PAGE_CACHE_SECONDS=0 turns the cache off.
"""

import hashlib
import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.http import HttpResponse

from core import cache_health
from core.cache_health import CACHE_DOWN
from marketplace.models import Listing, ListingStatus, Stub, StubPhoto

# Moves on at every change of anything a catalogue page shows.
VERSION_KEY = "marketplace:catalogue-version"
# A change we cannot pin to a listing or seller: every page depends on this one too.
EVERYTHING_KEY = "marketplace:v:everything"
# How long a dependency's version is kept after its last change: far longer than any page, so a
# page never outlives the version it was checked against (a version that is gone reads as "never
# changed", which is what a page filed before any change recorded).
DEPENDENCY_SECONDS = 3600
# How long one request's claim to draw a page lasts, and a copy past its time is kept to be served
# meanwhile: far longer than drawing any page takes, short enough that a drawing that died is soon
# claimed again.
DRAWING_SECONDS = 10
# How long a request waits for the copy another is drawing before drawing the page itself, and how
# often it looks: longer than a miss of the dearest page under load (a text search at a million
# listings, a few hundred ms), short enough not to hold a worker's thread for long.
WAIT_SECONDS = 2.0
WAIT_STEP_SECONDS = 0.02
logger = logging.getLogger(__name__)


def page_cache_seconds() -> int:
    return getattr(settings, "PAGE_CACHE_SECONDS", 30)


def cache_down(error: Exception) -> None:
    """The cache could not be reached: say so (once a minute), and carry on without it."""
    cache_health.cache_down(error, consequence="catalogue pages are served uncached", logger=logger)


# What the request read inside read_ahead(): key -> value, or _ABSENT for a key the cache did not
# have. Per thread and request (a context variable, reset when the block ends).
_ahead: ContextVar[dict | None] = ContextVar("page_cache_ahead", default=None)
_ABSENT = object()


@contextmanager
def read_ahead(keys):
    """Read `keys` now, in one round trip, and answer cache_get_many (and `versions`) from what was
    read until the block ends; keys not read ahead are read when asked for and kept too.

    A listing page's parts (more from the seller, the seller's reputation, the sold prices, the
    cards) each read a few keys of their own, one round trip each (~0.15 ms of CPU apiece); read
    ahead together they cost one. Each part still decides from values read in one MGET, so what it
    sees is what it would have seen reading them itself a moment earlier. Inside the block a part
    gets the same objects each time it asks for a key, and what cache_set(_many) files is answered
    as filed; a version moved on (_bump) forgets everything read. With the cache away, nothing is
    kept (each read tries the cache again, as outside the block)."""
    found = cache_get_many(keys)
    ahead = None if found is None else {key: found.get(key, _ABSENT) for key in keys}
    token = _ahead.set(ahead)
    try:
        yield
    finally:
        _ahead.reset(token)


def cache_get_many(keys: list[str]) -> dict | None:
    """cache.get_many (one round trip on Redis), or None when the cache cannot be reached. Inside
    read_ahead(), from what was read there (the keys missing from it in one round trip)."""
    ahead = _ahead.get()
    wanted = keys if ahead is None else [key for key in keys if key not in ahead]
    if wanted:
        try:
            found = cache.get_many(wanted)
        except CACHE_DOWN as error:
            cache_down(error)
            return None
        if ahead is None:
            return found
        ahead.update((key, found.get(key, _ABSENT)) for key in wanted)
    return {key: ahead[key] for key in keys if ahead[key] is not _ABSENT}


def _ahead_set(values: dict) -> None:
    ahead = _ahead.get()
    if ahead is not None:
        ahead.update(values)


def cache_set(key: str, value, seconds: int) -> None:
    """cache.set, or nothing when the cache cannot be reached."""
    try:
        cache.set(key, value, seconds)
    except CACHE_DOWN as error:
        cache_down(error)
    else:
        _ahead_set({key: value})


def cache_set_many(values: dict, seconds: int) -> None:
    """cache.set_many (one round trip on Redis), or nothing when the cache cannot be reached."""
    try:
        cache.set_many(values, seconds)
    except CACHE_DOWN as error:
        cache_down(error)
    else:
        _ahead_set(values)


def catalogue_version() -> int | None:
    """The current catalogue version; None when the cache cannot be reached (then nothing is read
    from or filed in the cache: a cache outage makes pages slower, never wrong or failing)."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            # A fresh or flushed cache: start from a new number, above any a page may have recorded.
            version = time.time_ns()
            cache.add(VERSION_KEY, version, timeout=None)
            version = cache.get(VERSION_KEY, version)
    except CACHE_DOWN as error:
        cache_down(error)
        return None
    return version


def listing_key(listing_id) -> str:
    return f"marketplace:v:listing:{int(listing_id)}"


def seller_key(seller_id) -> str:
    return f"marketplace:v:seller:{int(seller_id)}"


def seller_sales_key(seller_id) -> str:
    """Moves on when one of the seller's listings is saved sold (their "stubs sold"); no page
    records it, so a sale does not empty every page that shows one of the seller's cards."""
    return f"marketplace:v:seller-sales:{int(seller_id)}"


def versions(keys: list[str]) -> dict | None:
    """The current versions of `keys` and any other keys' values, one round trip (a key never
    changed reads 0); None when the cache cannot be reached."""
    found = cache_get_many(keys)
    if found is None:
        return None
    return {key: found.get(key, 0) for key in keys}


def _bump(keys: frozenset) -> None:
    """Move the counter on and give `keys` its new value."""
    ahead = _ahead.get()
    if ahead is not None:  # what was read ahead may be from before this change
        ahead.clear()
    try:
        try:
            version = cache.incr(VERSION_KEY)
        except ValueError:  # no counter yet (a fresh or flushed cache): start one
            catalogue_version()
            version = cache.incr(VERSION_KEY)
        cache.set_many(dict.fromkeys(keys, version), DEPENDENCY_SECONDS)
    except CACHE_DOWN as error:
        # A save must not fail because the cache is away. A cache that comes back empty (Redis
        # keeps no data here) has no pages either; one that was only unreachable may serve pages
        # missing this change until they expire (PAGE_CACHE_SECONDS).
        cache_down(error)


def _changed(keys: frozenset) -> None:
    """Pages that show any of `keys` no longer count (now, and again after the commit)."""
    _bump(keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump(keys))


def catalogue_changed(sender=None, instance=None, **_kwargs) -> None:
    """Signal receiver for Listing, Stub, StubPhoto and feedback saves and deletes: the pages
    that show the listing (or the seller the feedback is about) no longer count."""
    if isinstance(instance, Listing):
        keys = {listing_key(instance.pk)}
        if instance.status == ListingStatus.SOLD:
            keys.add(seller_sales_key(instance.seller_id))
    elif isinstance(instance, Stub | StubPhoto):
        stub_id = instance.pk if isinstance(instance, Stub) else instance.stub_id
        shown_by = Listing.objects.filter(stub_id=stub_id).values_list("pk", flat=True)
        keys = {listing_key(pk) for pk in shown_by}
    elif getattr(instance, "seller_id", None) is not None:  # feedback about a seller
        keys = {seller_key(instance.seller_id)}
    else:
        keys = {EVERYTHING_KEY}
    _changed(frozenset(keys))


def seller_changed(sender, instance, update_fields=None, **kwargs) -> None:
    """A seller's name or payment status shows on their cards; a buyer's login does not."""
    if getattr(instance, "is_seller", False) and set(update_fields or ()) != {"last_login"}:
        _changed(frozenset({seller_key(instance.pk)}))


def page_shows(request, *, listings=(), sellers=()) -> None:
    """Record what the page being rendered shows: `listings` (and each one's seller), `sellers`.
    A view under anonymous_page_cache must call it (with nothing, for a page that shows no
    listing) or its page is not cached."""
    request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    shown = getattr(request, "_page_cache_shows", None)
    if shown is None:
        return
    for listing in listings:
        shown.add(listing_key(listing.pk))
        shown.add(seller_key(listing.seller_id))
    shown.update(seller_key(getattr(seller, "pk", seller)) for seller in sellers)
    request._page_cache_declared = True


def page_shows_keys(request, *, keys) -> None:
    """Record dependencies of the page being rendered other than listings and sellers: keys a
    higher app moves on with `keys_changed` (payments' sold-price history of a group). Does not
    declare the page: its view still calls page_shows."""
    request = getattr(request, "_request", request)
    shown = getattr(request, "_page_cache_shows", None)
    if shown is not None:
        shown.update(keys)


def keys_changed(*, keys) -> None:
    """Pages that recorded any of `keys` (page_shows_keys) no longer count, now and again after
    the commit; a copy of anything filed under one of their versions is no longer current."""
    _changed(frozenset(keys))


def _is_anonymous_and_plain(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _versions_to_file(keys: list[str], started) -> list | None:
    """The versions of `keys` to file a page under, or None when one of them changed after the
    rendering began (the page may show the rows from before that change or after it)."""
    found = cache_get_many(keys)
    if found is None:
        return None
    versions = [found.get(key, 0) for key in keys]
    if any(type(version) is not int or version > started for version in versions):
        return None
    return versions


# File a page only while none of its dependencies changed after its rendering began, and end the
# claim to draw it either way, in one round trip (page_file). KEYS: the page's key, its drawing
# claim, then its dependencies'; ARGV: `started`, the seconds, the copy. A version is the decimal
# text of an integer (Django's RedisSerializer stores integers unpickled); compared as text, in two
# parts a Lua number holds exactly (versions pass 2^53).
_FILE_IF_UNCHANGED = """
local started = ARGV[1]
local function after(v)
  if #v ~= #started then return #v > #started end
  local cut = math.max(#v - 9, 0)
  local high, high_started = tonumber(v:sub(1, cut)) or 0, tonumber(started:sub(1, cut)) or 0
  if high ~= high_started then return high > high_started end
  return tonumber(v:sub(cut + 1)) > tonumber(started:sub(cut + 1))
end
redis.call('DEL', KEYS[2])
for i = 3, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and (not string.match(v, '^%d+$') or after(v)) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[2])
return 1
"""
_file_script = []  # the registered script, made once (its client is named at each call)


def _file_if_unchanged(redis, key: str, keys: list[str], started: int, value, seconds: int) -> bool:
    """Redis: file `value` under `key` unless a version of `keys` is past `started`, and end the
    claim to draw it, one round trip (a script, EVALSHA after its first use). Whether it was filed."""
    backend, _client, serializer = redis
    names = [backend.make_key(name) for name in (key, _drawing_key(key), *keys)]
    args = [int(started), int(seconds), serializer.dumps(value)]
    try:
        client = backend._cache.get_client(write=True)  # noqa: SLF001  as _redis
        if not _file_script:
            _file_script.append(client.register_script(_FILE_IF_UNCHANGED))
        return bool(_file_script[0](keys=names, args=args, client=client))
    except CACHE_DOWN as error:
        cache_down(error)
        return False


def page_key(request, view, variant: str = "") -> str:
    """The cache key of the page at this whole address (scheme and validated host included: a page
    can carry absolute links, the API's `next`, and one host's copy must never answer another
    host's visitors), for the variant of visitor it was drawn for."""
    address = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()[:32]
    return f"marketplace:pages:{view.__name__}:{variant}{address}"


# Per process: the dependency keys of the copy last filed or read under each page key. A copy
# drawn again for the same address nearly always shows the same listings and sellers, so the page
# and the versions it must be checked against come back in one round trip; a copy whose keys are
# not all among them is checked with a second one. Bounded: emptied when it holds too many.
_known_keys: dict[str, tuple[str, ...]] = {}
_KNOWN_KEYS_MAX = 20000
# Per process, beside _known_keys: one hit's read (MGET of [VERSION_KEY, page, *its dependencies]
# as the cache names them in Redis), packed once per page key and cache.
_raw_keys: dict[str, tuple] = {}


def _remember_keys(key: str, keys) -> None:
    if len(_known_keys) >= _KNOWN_KEYS_MAX:
        _known_keys.clear()
        _raw_keys.clear()
    _known_keys[key] = tuple(keys)
    _raw_keys.pop(key, None)


def _redis():
    """The cache's redis-py client and serializer when the cache is Django's RedisCache, else None.

    A hit reads ~75 keys; through cache.get_many each is named and validated by Django
    (make_key, validate_key), then packed and unpickled one by one, about half a hit's CPU. The
    versions are plain integers, which Django's RedisCache stores unpickled (RedisSerializer), so
    the hit path reads them with one MGET named and packed once per page key (`_raw_keys`) and
    parses them as integers; any other cache (LocMem in tests and development) goes through get_many."""
    backend = caches[DEFAULT_CACHE_ALIAS]  # what `cache` stands for in this thread
    if not isinstance(backend, RedisCache):
        return None
    client = backend._cache  # noqa: SLF001  RedisCacheClient: one pool per server, made once
    return backend, client.get_client(write=False), client._serializer  # noqa: SLF001


def _version(value) -> int | None:
    """A dependency's version as MGET gives it (bytes of an integer; None: never changed, 0), or
    None for anything else (the page is then not served: re-rendered, never trusted)."""
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        return None


def _mget(client, key: str, known: tuple, backend) -> list:
    """MGET of [VERSION_KEY, key, *known] as the cache names them, sent as a command packed once
    per page key and kept with it (`_raw_keys`): redis-py packs ~75 keys in Python, ~0.25 ms a hit.
    As redis-py's own command, on a connection from the client's pool that the pool has checked
    (connected, nothing left unread), dropped on any error."""
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        raw = _raw_keys.get(key)
        # What names the keys, not the backend object: Django gives each thread (gthread workers)
        # a backend of its own, all naming keys alike.
        naming = (backend.key_prefix, backend.version, backend.key_func)
        if raw is None or raw[0] != naming or raw[1] is not known:
            names = [backend.make_key(name) for name in (VERSION_KEY, key, *known)]
            raw = (naming, known, connection.pack_command("MGET", *names))
            if known:
                _raw_keys[key] = raw
        connection.send_packed_command(raw[2])
        return connection.read_response()
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)


def _raw_lookup(key: str, known: tuple, redis) -> dict | None:
    """What cache_get_many([VERSION_KEY, key, *known]) gives, with one MGET of precomputed keys;
    the dependencies' versions parsed as integers. None when the cache cannot be reached."""
    backend, client, serializer = redis
    try:
        values = _mget(client, key, known, backend)
        found = {}
        if values[0] is not None:
            found[VERSION_KEY] = serializer.loads(values[0])
        if values[1] is not None:
            found[key] = serializer.loads(values[1])
    except CACHE_DOWN as error:
        cache_down(error)
        return None
    found.update(zip(known, map(_version, values[2:]), strict=True))
    return found


def page_lookup(key: str):
    """Read the copy filed under `key`: (copy, started), the copy's payload when it may be served
    (else None), and the version to file a fresh rendering under (None: the cache cannot be
    reached, serve uncached). One round trip when this process has seen the copy before. When
    another request is drawing the page, wait for its copy (module doc); a request told to draw
    it ends with page_file or page_drawn."""
    deadline = None
    while True:
        payload, started, drawn_elsewhere = _lookup(key)
        if not drawn_elsewhere:
            return payload, started
        now = time.monotonic()
        deadline = deadline or now + WAIT_SECONDS
        if now >= deadline:
            return None, started
        time.sleep(WAIT_STEP_SECONDS)


def _lookup(key: str):
    """page_lookup once: (payload, started, whether another request is drawing the page)."""
    known = _known_keys.get(key, ())
    redis = _redis()
    if redis is not None:
        found = _raw_lookup(key, known, redis)
    else:
        found = cache_get_many([VERSION_KEY, key, *known])
    if found is None:  # the cache cannot be reached
        return None, None, False
    cached = found.get(key)
    servable = None  # a current copy past its time, served while another request draws it again
    if cached is not None and len(cached) == 4:  # a copy filed in an older form is drawn again
        keys, filed_at, payload, fresh_until = cached
        if tuple(keys) == known:
            current = found
        else:
            current = cache_get_many(keys)
            _remember_keys(key, keys)
        if current is not None and _unchanged_since(filed_at, (current.get(k, 0) for k in keys)):
            if time.time() < fresh_until:
                return payload, None, False
            servable = payload
    started = found.get(VERSION_KEY) or catalogue_version()
    if started is None:  # the cache went away meanwhile: serve uncached, claim nothing
        return None, None, False
    if _claim_drawing(key):
        return None, started, False
    if servable is not None:
        return servable, None, False
    return None, started, True


def _drawing_key(key: str) -> str:
    return f"{key}:drawing"


# The drawings this thread claimed and has not ended (page_file, page_drawn).
_claims = threading.local()


def _claim_drawing(key: str) -> bool:
    """Whether this request draws the page at `key` (no copy it may serve): the first to ask does,
    for DRAWING_SECONDS or until it files the page; the others wait or are served the copy."""
    try:
        claimed = cache.add(_drawing_key(key), 1, timeout=DRAWING_SECONDS)
    except CACHE_DOWN as error:
        cache_down(error)
        return True
    if claimed:
        _claims.keys = {*getattr(_claims, "keys", ()), key}
    return claimed


def page_drawn(key: str) -> None:
    """End this request's claim to draw the page at `key` if filing it has not (the page was not
    filed: an error, a 404, a page for this visitor alone), so others draw it without waiting."""
    keys = getattr(_claims, "keys", set())
    if key not in keys:
        return
    keys.discard(key)
    try:
        cache.delete(_drawing_key(key))
    except CACHE_DOWN as error:
        cache_down(error)


def _unchanged_since(started, versions) -> bool:
    """Whether every one of `versions` is an integer at or below `started` (a copy filed in the
    form before, with a list of versions, never is)."""
    if type(started) is not int:
        return False
    return all(type(version) is int and version <= started for version in versions)


def page_begin(request) -> None:
    """Start recording what the page being rendered shows (page_shows)."""
    request._page_cache_shows, request._page_cache_declared = {EVERYTHING_KEY}, False


def page_fileable(request, response) -> bool:
    """Whether the view's answer may be filed: a 200 whose view declared what it shows."""
    return (response.status_code == 200 and getattr(request, "_page_cache_declared", False)
            and not response.cookies and not getattr(response, "streaming", False))


def page_file(request, key: str, started, payload, seconds: int) -> None:
    """File `payload` under `key` with what the page showed, `started` and when it is due to be
    drawn again (`seconds` from now), unless one of those changed after the rendering began (one
    round trip on Redis, two on any other cache). The copy is current while every one of them is
    still at or below `started` (page_lookup): the counter only moves on, so any change since has
    a higher version."""
    keys = sorted(request._page_cache_shows)
    value = (keys, started, payload, time.time() + seconds)
    kept = seconds + DRAWING_SECONDS  # served past its time only while one request draws it again
    redis = _redis()
    if redis is not None:
        filed = _file_if_unchanged(redis, key, keys, started, value, kept)
        getattr(_claims, "keys", set()).discard(key)  # the script ended the claim
    else:
        filed = _versions_to_file(keys, started) is not None
        if filed:
            cache_set(key, value, kept)
        page_drawn(key)
    if filed:
        _remember_keys(key, keys)


def anonymous_page_cache(view):
    """Serve the view's 200 answers to anonymous visitors from the cache (see the module doc)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = page_cache_seconds()
        if not seconds or not _is_anonymous_and_plain(request):
            return view(request, *args, **kwargs)
        key = page_key(request, view)
        cached, started = page_lookup(key)
        if cached is not None:
            content, content_type = cached
            return HttpResponse(content, content_type=content_type)
        if started is None:
            return view(request, *args, **kwargs)
        page_begin(request)
        try:
            response = view(request, *args, **kwargs)
            if page_fileable(request, response):
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
                page_file(request, key, started, (response.content, response["Content-Type"]), seconds)
        finally:
            page_drawn(key)
        return response

    return wrapper
