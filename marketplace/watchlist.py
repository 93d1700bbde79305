"""Watchlist and saved searches: watch a stub (the heart), be told when its price drops or a
buyer starts paying for it; save a search and get a daily email of new matches; leave any of
those emails with a signed link that works without logging in.

Price drops and "about to be sold" are noticed from the listing row itself (a post_save hook,
connected in marketplace.apps), so every path that changes a listing (edit page, admin, API,
checkout) is covered without each one remembering to call us. Each watch remembers the lowest
price it told of (`price_seen_cents`), when it last told of a drop, and the reservation it last
warned of: a drop is emailed only below what the watcher knows and at most once a day per
listing, each checkout once, however often the row is saved.
"""

import logging
import time
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from core.cache_health import CACHE_DOWN, cache_down
from core.email import email_send
from core.errors import DomainError, NotFound
from core.queue import enqueue_on_commit
from core.sessions import NOT_READ, session_prefetched
from core.site import SITE_NAME, absolute_url
from marketplace.forms import ListingFilterForm, parse_listing_filters
from marketplace.models import Listing, ListingStatus, SavedSearch, Watch
from marketplace.pricing import format_usd
from marketplace.selectors import listing_search

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "stubcollector.unsubscribe"
DIGEST_MAX_LISTINGS = 10
DIGEST_MIN_INTERVAL = timedelta(hours=20)  # a second run the same day sends nothing twice

# The tasks that run the hooks below (marketplace.tasks), queued by name; they kept the names
# they had when payments ran them, which beat's schedule and queued messages use.
WATCH_PRICE_DROPS_TASK = "payments.tasks.watch_price_drops_notify_task"
WATCH_RESERVED_TASK = "payments.tasks.watch_reserved_notify_task"


class WatchNotAllowed(DomainError):
    code = "watch_not_allowed"
    status = 409
    message = "This stub cannot be watched."


class SavedSearchInvalid(DomainError):
    code = "saved_search_invalid"
    status = 400
    message = ("This search cannot be saved: fix the filters first "
               "(the search text is at most 200 characters).")


class SavedSearchLimit(DomainError):
    code = "saved_search_limit"
    status = 409

    def __init__(self):
        limit = settings.MAX_SAVED_SEARCHES
        super().__init__(f"You can keep at most {limit} saved searches; delete one first.")


class BadUnsubscribeLink(NotFound):
    code = "bad_unsubscribe_link"
    message = (
        "This unsubscribe link is not valid. Open the latest email, or manage emails from your account."
    )


# -- unsubscribe links ------------------------------------------------------------------------------


def unsubscribe_token(*, kind: str, pk: int) -> str:
    return signing.dumps({"k": kind, "id": pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, kind: str, pk: int) -> str:
    return absolute_url(reverse("marketplace:unsubscribe", args=[unsubscribe_token(kind=kind, pk=pk)]))


def unsubscribe_target(*, token: str):
    """The Watch or SavedSearch a signed token names; BadUnsubscribeLink otherwise."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        model = {"watch": Watch, "search": SavedSearch}[data["k"]]
        return model.objects.select_related("user").get(pk=int(data["id"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError,
            Watch.DoesNotExist, SavedSearch.DoesNotExist):
        raise BadUnsubscribeLink() from None


def unsubscribe_apply(*, token: str):
    """Stop the emails of what the token names (idempotent). Returns that row."""
    target = unsubscribe_target(token=token)
    type(target).objects.filter(pk=target.pk).update(emails_enabled=False)
    target.emails_enabled = False
    return target


# -- email ------------------------------------------------------------------------------------------


def _send(*, template: str, subject: str, to_user, context: dict, unsubscribe: str) -> bool:
    """Queue one watchlist email (core.email: a mail server failure is retried and logged by the
    task, never raised into the change that caused it)."""
    if not to_user.email:
        return False
    context = {**context, "recipient": to_user, "unsubscribe_url": unsubscribe, "site_name": SITE_NAME}
    return email_send(
        to=to_user.email, subject=subject, template=template, context=context,
        # RFC 8058 one-click unsubscribe: mail clients POST to the same signed link.
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def _listing_context(listing: Listing) -> dict:
    return {
        "listing": listing,
        "stub": listing.stub,
        "price": format_usd(listing.price_cents),
        "listing_url": absolute_url(reverse("marketplace:listing_detail", args=[listing.pk])),
        "watching_url": absolute_url(reverse("marketplace:watching")),
    }


# -- watching ---------------------------------------------------------------------------------------


def watch_add(*, user, listing_id) -> Watch:
    """Watch a listing (idempotent). Not one's own, nor a draft, withdrawn or sold one."""
    try:
        listing = Listing.objects.get(pk=int(listing_id))
    except (Listing.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such listing.", code="listing_not_found") from None
    if listing.seller_id == user.pk:
        raise WatchNotAllowed("This is your own listing.")
    if listing.status in (ListingStatus.DRAFT, ListingStatus.WITHDRAWN):
        raise NotFound("No such listing.", code="listing_not_found")
    if listing.status == ListingStatus.SOLD:
        raise WatchNotAllowed("This stub has already been sold.")
    try:
        with transaction.atomic():
            watch, _ = Watch.objects.get_or_create(
                user=user, listing=listing, defaults={"price_seen_cents": listing.price_cents}
            )
    except IntegrityError:  # two clicks at once: the other one made it
        watch = Watch.objects.get(user=user, listing=listing)
    return watch


def watch_remove(*, user, listing_id) -> None:
    """Stop watching (idempotent; an unknown listing is simply not watched)."""
    try:
        Watch.objects.filter(user=user, listing_id=int(listing_id)).delete()
    except (ValueError, TypeError, OverflowError):
        return


def watch_price_drops_notify(*, listing_id, now: datetime | None = None) -> int:
    """Email each watcher for whom the listing's price now is below the lowest price they were
    told of (or saw when watching began), at most once per WATCH_PRICE_DROP_EMAIL_HOURS per
    watch; that price is then what they were told. A rise, or a drop not emailed (too soon, or
    not on sale), changes nothing: a seller moving the price up and down sends no stream of
    emails, and a later drop below what the watcher knows is still news.
    Returns the number of emails sent."""
    now = now or timezone.now()
    quiet_since = now - timedelta(hours=settings.WATCH_PRICE_DROP_EMAIL_HOURS)
    sent = []
    with transaction.atomic():
        listing = Listing.objects.select_related("stub").filter(pk=listing_id).first()
        if listing is None or listing.effective_status() != ListingStatus.ACTIVE:
            return 0
        watches = list(
            Watch.objects.select_for_update()
            .filter(listing=listing, price_seen_cents__gt=listing.price_cents)
            .exclude(price_drop_emailed_at__gt=quiet_since)
        )
        for watch in watches:
            sent.append((watch, watch.price_seen_cents))
            watch.price_seen_cents = listing.price_cents
            watch.price_drop_emailed_at = now
        Watch.objects.bulk_update(watches, ["price_seen_cents", "price_drop_emailed_at"])
    count = 0
    for watch, was in sent:
        if not watch.emails_enabled:
            continue
        context = {**_listing_context(listing), "old_price": format_usd(was)}
        count += _send(
            template="watch_price_drop", to_user=watch.user, context=context,
            subject=f"Price drop: {listing.stub.event_name} is now {format_usd(listing.price_cents)}",
            unsubscribe=unsubscribe_url(kind="watch", pk=watch.pk),
        )
    return count


def watch_reserved_notify(*, listing_id, now: datetime | None = None) -> int:
    """A buyer started paying for a watched stub: tell the other watchers, once per hold."""
    now = now or timezone.now()
    to_tell = []
    with transaction.atomic():
        listing = Listing.objects.select_related("stub").filter(pk=listing_id).first()
        if listing is None or not listing.reservation_is_live(now):
            return 0
        watches = (
            Watch.objects.select_for_update()
            .filter(listing=listing)
            .exclude(user_id=listing.reserved_by_id)
            # warned of a hold that is still running: this is that hold (a reload extends it)
            .exclude(reservation_alerted_until__gt=now)
        )
        for watch in watches:
            watch.reservation_alerted_until = listing.reserved_until
            watch.save(update_fields=["reservation_alerted_until"])
            to_tell.append(watch)
    count = 0
    for watch in to_tell:
        if watch.emails_enabled:
            count += _send(
                template="watch_reserved", to_user=watch.user, context=_listing_context(listing),
                subject=f"Someone is buying {listing.stub.event_name}",
                unsubscribe=unsubscribe_url(kind="watch", pk=watch.pk),
            )
    return count


def listing_saved_hook(sender, instance: Listing, created: bool, update_fields=None, **kwargs) -> None:
    """post_save on Listing: after the commit, a task looks for a price drop or a new hold.

    A task, not work in the request: the checkout and the seller's edit page answer without
    waiting for the watchers' emails (docs/performance.md, change 11; with no broker it still runs
    in-process)."""
    if created:
        return
    fields = set(update_fields or ())
    if not fields or "price_cents" in fields:
        enqueue_on_commit(WATCH_PRICE_DROPS_TASK, listing_id=instance.pk)
    if (not fields or "status" in fields) and instance.status == ListingStatus.RESERVED:
        enqueue_on_commit(WATCH_RESERVED_TASK, listing_id=instance.pk)


# -- saved searches ---------------------------------------------------------------------------------

# The browse parameters a saved search keeps (never the page number).
SEARCH_PARAMS = ("q", "category", "min_price", "max_price", "date_from", "date_to", "min_rating", "sort")


def search_query_normalise(params) -> str:
    """The browse query string as a saved search stores it: known, non-empty params, sorted."""
    pairs = sorted(
        (name, params.get(name).strip()) for name in SEARCH_PARAMS if (params.get(name) or "").strip()
    )
    return urlencode(pairs)


def search_describe(query: str) -> str:
    """A name a person reads: 'Prince · Concert · up to $100'."""
    params = QueryDict(query)
    parts = []
    if params.get("q"):
        parts.append(f"“{params['q']}”")
    category = dict(ListingFilterForm.base_fields["category"].choices).get(params.get("category", ""), "")
    if params.get("category") and category:
        parts.append(str(category))
    if params.get("min_price"):
        parts.append(f"from ${params['min_price']}")
    if params.get("max_price"):
        parts.append(f"up to ${params['max_price']}")
    if params.get("date_from") or params.get("date_to"):
        parts.append(f"{params.get('date_from', '…')} to {params.get('date_to', '…')}")
    if params.get("min_rating"):
        parts.append(f"sellers rated {params['min_rating']}+")
    return " · ".join(parts)[:120] or "Every new stub"


def saved_search_create(*, user, params, now: datetime | None = None) -> SavedSearch:
    """Save the browse query (idempotent per query); new matches are counted from now."""
    now = now or timezone.now()
    form, _ = parse_listing_filters(params)
    query = search_query_normalise(params)
    if form.errors or len(query) > SavedSearch._meta.get_field("query").max_length:
        raise SavedSearchInvalid()
    with transaction.atomic():
        # The user's row is the lock: parallel saves count one after another, so a burst
        # cannot each see room under the cap before any of them wrote.
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        existing = SavedSearch.objects.filter(user=user, query=query).first()
        if existing is not None:
            return existing
        if SavedSearch.objects.filter(user=user).count() >= settings.MAX_SAVED_SEARCHES:
            raise SavedSearchLimit()
        return SavedSearch.objects.create(
            user=user, query=query, name=search_describe(query), checked_until=now
        )


def saved_search_delete(*, user, search_id) -> None:
    try:
        SavedSearch.objects.filter(user=user, pk=int(search_id)).delete()
    except (ValueError, TypeError, OverflowError):
        return


def saved_search_new_matches(*, search: SavedSearch, now: datetime | None = None) -> list[Listing]:
    _, filters = parse_listing_filters(QueryDict(search.query))
    matches = listing_search(filters=filters, now=now).filter(created_at__gt=search.checked_until)
    return list(matches.order_by("-created_at", "-id")[:DIGEST_MAX_LISTINGS])


def saved_search_digests_send(*, now: datetime | None = None) -> dict:
    """The daily email: for each saved search with emails on, the stubs listed since the last
    one. Safe to run more than once a day (a search emailed in the last 20 hours waits)."""
    now = now or timezone.now()
    totals = {"searches": 0, "emails": 0}
    searches = SavedSearch.objects.filter(emails_enabled=True).select_related("user").order_by("pk")
    for search in searches.iterator(chunk_size=200):
        if search.last_sent_at and now - search.last_sent_at < DIGEST_MIN_INTERVAL:
            continue
        totals["searches"] += 1
        matches = saved_search_new_matches(search=search, now=now)
        sent = False
        if matches:
            context = {
                "search": search,
                "listings": [_listing_context(listing) for listing in matches],
                "search_url": absolute_url(f"{reverse('marketplace:browse')}?{search.query}"),
                "manage_url": absolute_url(reverse("marketplace:saved_searches")),
            }
            sent = _send(
                template="saved_search_digest", to_user=search.user, context=context,
                subject=f"{len(matches)} new stub{'s' if len(matches) != 1 else ''} for “{search.name}”",
                unsubscribe=unsubscribe_url(kind="search", pk=search.pk),
            )
        updates = {"checked_until": now}
        if sent:
            updates["last_sent_at"] = now
            totals["emails"] += 1
        SavedSearch.objects.filter(pk=search.pk).update(**updates)
    return totals


# -- the ids a logged-in visitor watches, for the hearts of a shared page ---------------------------
# A logged-in page served from the shared copy (marketplace.personal) fills in the hearts from the
# ids of the listings the visitor watches, filed in the cache (WATCHED_KEY) with the value the
# user's watch marker (WATCHED_CHANGED_KEY) had before the ids were read from the database, and read
# in the same round trip as the visitor's session (core.sessions.read_with_session). Every Watch
# saved or deleted (a heart clicked, an unsubscribe link, a listing or a user deleted: Django sends
# post_delete for each cascaded row while a receiver listens) moves the marker on and deletes the
# copy, at once and again after the commit, so a copy read while the watchlist was changing is
# refused by its stale marker and a click shows on the next page. The copy lives WATCHED_SECONDS,
# which bounds what a change the cache could not be told about (an outage) leaves behind: a heart
# shown in the state it had, never anything about another user or a listing's sale.
WATCHED_KEY = "marketplace:watched:{}"
WATCHED_CHANGED_KEY = "marketplace:watched-changed:{}"
WATCHED_SECONDS = 300
# Longer than any copy: a marker that expired could let a copy filed before it moved count again.
WATCHED_MARKER_SECONDS = 24 * 3600
# A watchlist longer than this is not filed (the hearts of such a visitor cost one query).
WATCHED_MAX = 2000


def watched_keys(user_id: int) -> list[str]:
    """What core.sessions reads with a logged-in visitor's session (marketplace's AppConfig.ready)."""
    return [WATCHED_KEY.format(int(user_id)), WATCHED_CHANGED_KEY.format(int(user_id))]


def watch_changed(sender, instance, **kwargs) -> None:
    """post_save/post_delete receiver of Watch: the user's filed watched ids no longer count."""
    user_id = instance.user_id
    _forget_watched(user_id)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _forget_watched(user_id))


def _forget_watched(user_id) -> None:
    key, marker = watched_keys(user_id)
    try:
        cache.set(marker, time.time_ns(), WATCHED_MARKER_SECONDS)
        cache.delete(key)
    except CACHE_DOWN as error:
        cache_down(error, consequence="watch hearts may show an old state for a few minutes", logger=logger)


def watched_listing_ids(*, user_id: int, request=None) -> frozenset[int]:
    """The ids of every listing the user watches: from the copy read with the request's session
    when it is current, else the cache, else one query (then filed). A cache that cannot be
    reached means the query."""
    key, marker_key = watched_keys(user_id)
    found = {}
    for name in (key, marker_key):
        value = NOT_READ if request is None else session_prefetched(request, name)
        if value is NOT_READ:
            found = None
            break
        found[name] = value
    reachable = True
    if found is None:
        try:
            found = cache.get_many([key, marker_key])
        except CACHE_DOWN as error:
            cache_down(error, consequence="watch hearts are read from the database", logger=logger)
            found, reachable = {}, False
    filed, marker = found.get(key), found.get(marker_key)
    if filed is not None and filed[0] == marker:
        return filed[1]
    ids = frozenset(Watch.objects.filter(user_id=user_id).values_list("listing_id", flat=True))
    if reachable and len(ids) <= WATCHED_MAX:
        try:
            cache.set(key, (marker, ids), WATCHED_SECONDS)
        except CACHE_DOWN as error:
            cache_down(error, consequence="watch hearts are read from the database", logger=logger)
    return ids


def listings_mark_watched(*, listings, user) -> list:
    """Set `is_watched` on each listing for the cards' hearts: one query for the whole page."""
    listings = list(listings)
    watched = set()
    if getattr(user, "is_authenticated", False) and listings:
        watched = set(
            Watch.objects.filter(user=user, listing_id__in=[listing.pk for listing in listings])
            .values_list("listing_id", flat=True)
        )
    for listing in listings:
        listing.is_watched = listing.pk in watched
    return listings
