"""Logged-in visitors' catalogue pages from one shared copy, with their own bits filled in per request.

A logged-in buyer's browse, search, seller or listing page is the anonymous visitor's page but
for a few personal bits: the header's menu (name, unread count, seller links, the log-out form),
the watch hearts, the CSRF tokens of the page's forms and, on a listing page, the "Can I buy it?"
panel with the offer box (the buyer's accepted offer, their latest offer). So such a page is drawn
once for every logged-in visitor with a *slot* where each personal bit goes, an HTML comment
(`<!--personal:...-->`, which no visitor's text can produce: text is escaped), filed like an
anonymous page (marketplace.page_cache: served only while every listing and seller it shows
keeps its version), and each request fills the slots for its own visitor: the header from a small
template, the hearts from the ids the visitor watches (marketplace.watchlist: filed in the cache and
read with the session, so no query), one fresh CSRF token, the purchase panel from the listing as
it was when the copy was drawn (the copy is current only while that listing is unchanged) and the
visitor's own offers.

Never shared: a page with a message waiting for the visitor (it shows it once), an answer other
than 200, and a listing page for its seller or for the buyer who holds its reservation (the page
records them, `page_not_shared_for`, and they always get their own rendering).
"""

import re
from functools import lru_cache, wraps
from types import SimpleNamespace

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString, mark_safe

from core import sessions
from marketplace import page_cache
from marketplace.hearts import heart_html, page_token
from marketplace.watchlist import watched_listing_ids

HEADER = "<!--personal:header-->"
CSRF = "<!--personal:csrf-->"
PURCHASE = "<!--personal:purchase-->"
_SLOT = re.compile(r"<!--personal:(header|csrf|purchase|heart:(\d+)(L?))-->")
# What `{% csrf_token %}` and the hearts write: a masked token is 64 letters and digits.
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}"')
_TOKEN_SLOT = f'name="csrfmiddlewaretoken" value="{CSRF}"'
HEADER_TEMPLATE = "_header_nav.html"
MESSAGES_LINK_TEMPLATE = "messaging/_header_link.html"
_MESSAGES_LINK = "<!--personal:messages-link-->"
PURCHASE_TEMPLATE = "marketplace/_purchase.html"
VARIANT = "member:"


def slots(request) -> dict | None:
    """The slots of the shared page being drawn for this request, or None (drawn for this visitor)."""
    return getattr(request, "_personal_slots", None)


def page_not_shared_for(request, *user_ids) -> None:
    """This page is not the same for these users (the listing's seller, the holder of its
    reservation): they are never served the shared copy, and a copy drawn for one of them is not
    filed."""
    found = slots(request)
    if found is not None:
        found["not_for"].update(user_id for user_id in user_ids if user_id is not None)


def heart_slot(request, listing, show_label: bool) -> SafeString | None:
    """A heart's slot on a shared page (None when the page is drawn for its visitor alone)."""
    found = slots(request)
    if found is None:
        return None
    found["hearts"][int(listing.pk)] = (listing.seller_id, listing.stub.event_name)
    return mark_safe(f"<!--personal:heart:{int(listing.pk)}{'L' if show_label else ''}-->")  # noqa: S308


def header_html(request) -> SafeString:
    """The header's menu of a logged-in visitor (base.html's `{% header_nav %}`), or its slot."""
    if slots(request) is not None:
        return mark_safe(HEADER)  # noqa: S308  a fixed comment
    return mark_safe(_header_for(request))  # noqa: S308  template output


def _header_for(request, *, unread_from_session: bool = False) -> str:
    """The menu drawn once per username and seller flag (its template draws nothing else of the
    visitor), with this visitor's Messages link (messaging's template: the unread count) and one
    of their CSRF tokens put in. `unread_from_session`: the count as read with the session at the
    start of the request, for a shared copy's slot (no view ran, so nothing was read since); a
    page its view drew may just have marked messages read."""
    user = request.user
    frame = _header_frame(user.username, bool(user.is_seller), get_urlconf(), get_script_prefix())
    link = get_template(MESSAGES_LINK_TEMPLATE).render(
        {"request": request, "unread_from_session": unread_from_session}
    )
    return frame.replace(_MESSAGES_LINK, link, 1).replace(CSRF, page_token(request))


@lru_cache(maxsize=4096)
def _header_frame(username: str, is_seller: bool, _urlconf, _prefix) -> str:
    user = SimpleNamespace(username=username, is_seller=is_seller)
    return get_template(HEADER_TEMPLATE).render(
        {"user": user, "csrf_token": mark_safe(CSRF), "messages_link": mark_safe(_MESSAGES_LINK)}  # noqa: S308
    )


def _is_member_and_plain(request) -> bool:
    """A logged-in GET with no message waiting (len() reads the messages without using them up)."""
    return (
        request.method in ("GET", "HEAD")
        and page_cache.page_cache_seconds() > 0
        and "messages" not in request.COOKIES
        and request.user.is_authenticated
        and not len(get_messages(request))
    )


def _shared_copy(content: str) -> str | None:
    """The page with its CSRF tokens replaced by slots; None when a token is left anywhere else."""
    shared, replaced = _TOKEN.subn(_TOKEN_SLOT, content)
    if shared.count("csrfmiddlewaretoken") != replaced:
        return None
    return shared


def _fill(request, content: str, found: dict) -> str:
    """The shared copy with this visitor's own bits in its slots."""
    user, parts = request.user, {}
    hearts = found["hearts"]
    watched = watched_listing_ids(user_id=user.pk, request=request) if hearts else frozenset()

    def one(match) -> str:
        name = match.group(1)
        if name in parts:
            return parts[name]
        if name == "header":
            html = _header_for(request, unread_from_session=True)
        elif name == "csrf":
            html = page_token(request)
        elif name == "purchase":
            html = _purchase_html(request, found["purchase"])
        else:
            listing_id = int(match.group(2))
            seller_id, event_name = hearts[listing_id]
            listing = SimpleNamespace(pk=listing_id, seller_id=seller_id, is_watched=listing_id in watched,
                                      stub=SimpleNamespace(event_name=event_name))
            html = heart_html(listing=listing, request=request, show_label=bool(match.group(3)))
        parts[name] = html
        return html

    return _SLOT.sub(one, content)


def _purchase_html(request, listing) -> str:
    from marketplace.services import listing_purchase_blocker  # services import the cards' module

    user = request.user
    blocker = listing_purchase_blocker(listing=listing, buyer=user)
    # The seller's own page is never served from a shared copy, but is drawn with the slots too.
    is_owner = user.is_authenticated and user.pk == listing.seller_id
    context = {"listing": listing, "stub": listing.stub, "blocker": blocker, "is_owner": is_owner}
    return get_template(PURCHASE_TEMPLATE).render(context, request)


def _user(request):
    """What AuthenticationMiddleware's lazy user gives, from core.sessions' copy (and kept where
    Django keeps it, so anything asking again gets the same user)."""
    if not hasattr(request, "_cached_user"):
        request._cached_user = sessions.cached_user(request)
    return request._cached_user


def member_page_cache(view):
    """page_cache.anonymous_page_cache, and the shared copy with slots for logged-in visitors."""
    anonymous = page_cache.anonymous_page_cache(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if settings.SESSION_COOKIE_NAME in request.COOKIES and not hasattr(request, "_cached_user"):
            # The visitor's row as read with their session (core.sessions.cached_user): no query.
            request.user = SimpleLazyObject(lambda: _user(request))
        if not _is_member_and_plain(request):
            return anonymous(request, *args, **kwargs)
        key = page_cache.page_key(request, view, VARIANT)
        cached, started = page_cache.page_lookup(key)
        if cached is not None and request.user.pk not in cached[2]["not_for"]:
            content, content_type, found = cached
            return HttpResponse(_fill(request, content, found), content_type=content_type)
        if started is None and cached is None:  # the cache cannot be reached
            return view(request, *args, **kwargs)
        if started is None:  # a copy not meant for this visitor: read the version to file under
            started = page_cache.catalogue_version()
        page_cache.page_begin(request)
        try:
            return _draw(view, request, args, kwargs, key=key, started=started)
        finally:
            page_cache.page_drawn(key)

    return wrapper


def _draw(view, request, args, kwargs, *, key: str, started):
    """Draw the page for this visitor and file its shared copy under `key` when it may be."""
    request._personal_slots = found = {"hearts": {}, "purchase": None, "not_for": set()}
    try:
        response = view(request, *args, **kwargs)
    except BaseException:
        # The error page (DomainErrorMiddleware's 404) is drawn for this visitor alone.
        request._personal_slots = None
        raise
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    if getattr(response, "streaming", False) or not response["Content-Type"].startswith("text/html"):
        return response
    content = response.content.decode(response.charset)
    shared = _shared_copy(content)
    if shared is None:  # a token somewhere the slots do not cover: this visitor's page only
        request._personal_slots = None
        return view(request, *args, **kwargs)
    if (started is not None and page_cache.page_fileable(request, response)
            and request.user.pk not in found["not_for"]):
        page_cache.page_file(request, key, started, (shared, response["Content-Type"], found),
                             page_cache.page_cache_seconds())
    response.content = _fill(request, shared, found)
    return response
