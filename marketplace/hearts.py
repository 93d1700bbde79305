"""The watch heart of a listing, drawn per request: it holds the visitor's CSRF token, address and
watch state, so it is never part of a shared card or page (marketplace.cards puts it into each
card; marketplace.personal into the slots of a page shared by logged-in visitors)."""

from functools import lru_cache
from urllib.parse import quote

from django.middleware.csrf import get_token
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@lru_cache(maxsize=16)
def _url_around(name: str, _urlconf, _prefix) -> tuple[str, str]:
    """reverse() once per URLconf and script prefix (24 hearts a page): the text around the id."""
    before, _, after = reverse(name, args=[1234567890]).partition("1234567890")
    return before, after


@lru_cache(maxsize=16)
def _login_url(_urlconf, _prefix) -> str:
    return reverse("accounts:login")


def page_token(request) -> str:
    """One masked CSRF token for every form of the page (masking one is ~60 random draws; the
    header, the hearts and the page's forms of a logged-in page share it)."""
    token = getattr(request, "_page_csrf_token", None)
    if token is None:
        token = request._page_csrf_token = get_token(request)
    return token


def _request_parts(request) -> tuple:
    """What every heart of the page shares, worked out and escaped once per request: whether the
    visitor is logged in and who, the page's address (as is, and quoted for a `next=`
    parameter), one masked CSRF token (masking one is ~20 us; a page has 24) and the URLs."""
    parts = getattr(request, "_watch_button_parts", None)
    if parts is None:
        user, here = request.user, request.get_full_path()
        logged_in = user.is_authenticated
        token = page_token(request) if logged_in else ""
        urlconf, prefix = get_urlconf(), get_script_prefix()
        parts = request._watch_button_parts = (
            logged_in,
            user.pk,
            escape(here),
            escape(quote(here, safe="/")),
            escape(token),
            _login_url(urlconf, prefix),
            _url_around("marketplace:watch_toggle", urlconf, prefix),
        )
    return parts


def heart_html(*, listing, request, show_label: bool = False) -> SafeString:
    """The heart: a watch/unwatch form for a logged-in visitor (none on their own listing), a
    link to log in for anyone else. Drawn per request: it holds the visitor's CSRF token.

    Built with f-strings from escaped parts (format_html escaped 13 arguments per heart, ~75 us)."""
    logged_in, user_id, here, quoted_here, token, login, (before, after) = _request_parts(request)
    name = escape(listing.stub.event_name)
    if not logged_in:
        label = " Watch" if show_label else ""
        return mark_safe(  # noqa: S308  every variable part is escaped above
            f'<a class="heart" href="{login}?next={quoted_here}" aria-label="Log in to watch {name}" '
            f'title="Log in to watch"><span aria-hidden="true">♡</span>{label}</a>'
        )
    if user_id == listing.seller_id:
        return mark_safe("")
    if getattr(listing, "is_watched", False):
        value, on, pressed, action, title, heart = "0", " is-on", "true", "Stop watching", _WATCHING, "♥"
        label = " Watching" if show_label else ""
    else:
        value, on, pressed, action, title, heart = "1", "", "false", "Watch", _NOT_WATCHING, "♡"
        label = " Watch" if show_label else ""
    return mark_safe(  # noqa: S308  every variable part is escaped above
        f'<form method="post" action="{before}{int(listing.pk)}{after}" class="watch-form">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        f'<input type="hidden" name="watch" value="{value}"><input type="hidden" name="next" value="{here}">'
        f'<button type="submit" class="heart{on}" aria-pressed="{pressed}" aria-label="{action} {name}" '
        f'title="{title}"><span aria-hidden="true">{heart}</span>{label}</button></form>'
    )


_WATCHING = "Watching: click to stop"
_NOT_WATCHING = "Watch: get an email when the price drops"
