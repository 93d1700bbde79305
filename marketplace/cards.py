"""Listing cards rendered once and shared: the grid of browse, seller, listing and watching pages
(and the browse page's filter fields, `filter_fields_render`).

A card is most of a catalogue page's template time (24 cards of a browse page were ~60 % of a
logged-in visitor's request in cProfile). What a card shows is fixed by a few columns of its
listing, stub and seller, so its HTML is filed under a digest of exactly those values
(`_card_values`): a card whose listing, stub or seller changed gets a new key, and nothing needs
to be emptied when the catalogue changes. Which cards a page shows is always read from the
database in the same request, so a sold or reserved listing drops out of the grid at once.

Nothing personal is in a shared card: the watch button (the visitor's heart, CSRF token and
address) is drawn per request into the place CARD_WATCH_BUTTON marks. One `get_many` per page;
the missing cards are rendered and filed with one `set_many`. A cache that cannot be reached
only means every card is rendered.
"""

import hashlib
from functools import lru_cache

from django.conf import settings
from django.template.loader import get_template
from django.templatetags.static import static
from django.utils.safestring import SafeString, mark_safe

from marketplace.hearts import heart_html
from marketplace.page_cache import cache_get_many, cache_set_many
from marketplace.personal import heart_slot

CARD_TEMPLATE = "marketplace/_listing_card.html"
FILTER_FIELDS_TEMPLATE = "marketplace/_filter_fields.html"
# Where the visitor's own watch button goes in a shared card (an HTML comment, so a card drawn
# without one is still valid HTML).
CARD_WATCH_BUTTON = "<!--watch-button-->"
# Where a page's own line about a card goes (search results: what stubs like it sold for, from
# payments' {% card_sold_prices %}), drawn per request from its own cache, never filed in the card.
CARD_EXTRA = "<!--card-extra-->"
# A card's key changes with its content, so this only bounds how long unused cards stay.
CARD_SECONDS = 24 * 3600


def _card_values(listing, hide_seller: bool) -> tuple:
    """Everything _listing_card.html shows. A new field on the card must be added here."""
    stub = listing.stub
    seller = None if hide_seller else (listing.seller.username, listing.seller.display_name)
    return (
        listing.pk,
        listing.price_cents,
        listing.shipping_cents,
        stub.event_name,
        stub.venue,
        stub.city,
        stub.event_date.isoformat(),
        stub.category,
        stub.thumbnail.name,
        stub.photo_state,
        seller,
    )


@lru_cache(maxsize=2)
def _key_prefix(template_name: str) -> str:
    """The card template's text and the addresses it draws from are part of every key: a deploy
    that changes the card, the static files' hashed names or the media address never serves
    cards drawn by the code before it."""
    source = get_template(template_name).template.source
    salt = "\n".join((source, static("img/stub-placeholder.svg"), settings.MEDIA_URL))
    kind = "card" if template_name == CARD_TEMPLATE else "fragment"
    return f"marketplace:{kind}:" + hashlib.sha256(salt.encode()).hexdigest()[:12] + ":"


def _card_key(listing, hide_seller: bool) -> str:
    digest = hashlib.sha256(repr(_card_values(listing, hide_seller)).encode()).hexdigest()[:32]
    return _key_prefix(CARD_TEMPLATE) + digest


def card_keys(listings, *, hide_seller: bool = False) -> list[str]:
    """The cache keys of `listings`' shared cards (to read them ahead with other keys)."""
    return [_card_key(listing, hide_seller) for listing in listings]


def cards_render(*, listings, request, hide_seller: bool = False, extras=None) -> SafeString:
    """The cards of `listings` (their `is_watched` set, see watchlist.listings_mark_watched),
    shared parts from the cache, each with this visitor's own watch button and, from `extras`
    (safe HTML by listing id), the page's own line about it."""
    extras = extras or {}
    listings = list(listings)
    keys = card_keys(listings, hide_seller=hide_seller)
    found = cache_get_many(keys) if keys else {}
    shared, missing = [], {}
    template = get_template(CARD_TEMPLATE)
    for listing, key in zip(listings, keys, strict=True):
        html = (found or {}).get(key)
        if html is None:
            html = template.render({"listing": listing, "hide_seller": hide_seller})
            missing[key] = html
        shared.append(html)
    if missing and found is not None:
        cache_set_many(missing, CARD_SECONDS)
    return mark_safe(
        "".join(  # noqa: S308  the shared cards are our templates' escaped output
            html.replace(CARD_WATCH_BUTTON, watch_button_html(listing=listing, request=request), 1)
            .replace(CARD_EXTRA, extras.get(listing.pk, ""), 1)
            for listing, html in zip(listings, shared, strict=True)
        )
    )


def filter_fields_render(form) -> SafeString:
    """The filter form's fields (the widgets were ~2 ms of a browse page), shared by every
    request that sends the same filters: they show the sent values and their errors only."""
    data = form.data
    sent = [
        (name, data.getlist(name) if hasattr(data, "getlist") else data.get(name)) for name in form.fields
    ]
    key = _key_prefix(FILTER_FIELDS_TEMPLATE) + hashlib.sha256(repr(sent).encode()).hexdigest()[:32]
    found = cache_get_many([key])
    html = (found or {}).get(key)
    if html is None:
        html = get_template(FILTER_FIELDS_TEMPLATE).render({"form": form})
        if found is not None:
            cache_set_many({key: html}, CARD_SECONDS)
    return mark_safe(html)  # noqa: S308  our template's escaped output


def watch_button_html(*, listing, request, show_label: bool = False) -> SafeString:
    """The heart, or its slot on a page drawn to be shared by logged-in visitors
    (marketplace.personal)."""
    slot = heart_slot(request, listing, show_label)
    return heart_html(listing=listing, request=request, show_label=show_label) if slot is None else slot
