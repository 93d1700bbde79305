"""`{{ listing|listing_url }}` and `{{ seller|seller_url }}`: a card's links without reverse();
`{{ listing|listing_url:"messaging:ask" }}`: the address of another page of the listing, named by
its URL pattern, which takes the listing's id alone (the listing page's purchase panel).

A browse page draws 24 cards with three links each: 77 reverse() calls were a few ms of every
page. These URL patterns are a fixed text around one argument, so each is reversed once (per
URLconf and script prefix) with a placeholder, and a card only formats a string.
"""

from functools import lru_cache
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

_PLACEHOLDER = "0123456789"
# What reverse() leaves unquoted in a path argument (django.urls.resolvers: RFC 3986 sub-delims).
_SAFE = "!$&'()*+,;=/~:@"


@lru_cache(maxsize=16)
def _around(name: str, _urlconf, _prefix) -> tuple[str, str]:
    before, _, after = reverse(name, args=[_PLACEHOLDER]).partition(_PLACEHOLDER)
    return before, after


def _url(name: str, argument: str) -> str:
    before, after = _around(name, get_urlconf(), get_script_prefix())
    return f"{before}{quote(argument, safe=_SAFE)}{after}"


@register.filter
def listing_url(listing, name: str = "marketplace:listing_detail") -> str:
    return _url(name, str(int(listing.pk)))


@register.filter
def seller_url(user) -> str:
    return _url("marketplace:seller_profile", user.username)
