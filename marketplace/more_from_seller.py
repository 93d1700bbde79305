"""The listing page's "More from this seller": one copy per seller, shared by all their listings' pages.

A listing page that the page cache misses (a random listing: nearly every visit) read the seller's
newest listings on sale with a query of its own, ~15 % of the CPU of such a request
(bench/listing_miss.py's profile), although every page of the same seller shows the same few. So
the seller's newest SHOWN + 1 listings nobody holds (one more than a page shows: the
page leaves out its own listing) are filed in the cache under the versions of exactly what decides
them (marketplace.page_cache's versions, never a catalogue-wide one): each of those listings
(`listing_key`: reserved, sold, withdrawn or edited, each a save, it drops out at once, as it does
from a grid read from the database) and the seller's listings on sale (`seller_listings_key`,
moved on whenever a listing of theirs is saved on sale: a new one, one relisted or released, so
it shows at once too). What a copy may still miss for up to COPY_SECONDS: a listing whose
reservation lapsed by the clock alone, with no save (a cached page may miss it too, for
PAGE_CACHE_SECONDS). Nothing else changes what a copy shows without a save, and a listing only
ever goes missing that way, never shows when taken, so a copy is kept longer than a page: a
seller's pages read it again when one of their listings changes, not every half minute.

A copy is filed only when none of its listings changed after the reading began (the catalogue's
counter read first), as page_cache files pages. It holds the listings' and stubs' rows only,
nothing of the seller (the page's own listing brings that row) and nothing of the visitor; the
cards drawn from it are marketplace.cards' shared cards with the visitor's heart put in per
request. Two cache round trips when the copy is current (the copy, then its listings' versions
with their cards), instead of the query, and the first of them is read with the rest of the page
(more_from_seller_keys, marketplace.listing_reads); with the cache away, or PAGE_CACHE_SECONDS 0
(the page cache off), the query as before.
"""

from marketplace.cards import card_keys
from marketplace.models import Listing, ListingStatus
from marketplace.page_cache import (
    VERSION_KEY,
    cache_get_many,
    cache_set,
    catalogue_version,
    keys_changed,
    listing_key,
    page_cache_seconds,
)
from marketplace.selectors import seller_newest_on_sale

# The listings a page shows.
SHOWN = 4
# The page draws their cards without the seller's name (listing_detail.html), so their cards' keys
# are read with the listings' versions.
CARDS_HIDE_SELLER = True
# Shorter than page_cache.DEPENDENCY_SECONDS, as every copy filed under versions must be (a version
# that has expired reads as "never changed" again).
COPY_SECONDS = 300


def copy_key(seller_id, count: int) -> str:
    return f"marketplace:more-from-seller:{int(seller_id)}:{int(count)}"


def seller_listings_key(seller_id) -> str:
    """Moves on when a listing of the seller is saved on sale (no page records it)."""
    return f"marketplace:v:seller-on-sale:{int(seller_id)}"


def listing_saved_on_sale(sender=None, instance=None, **_kwargs) -> None:
    """post_save receiver for Listing: a listing saved on sale may belong in its seller's copy.
    One that stops being on sale needs nothing here: its own version moves on."""
    if instance is not None and instance.status == ListingStatus.ACTIVE:
        keys_changed(keys=[seller_listings_key(instance.seller_id)])


def more_from_seller_keys(listing) -> list[str]:
    """The keys listing_more_from_seller reads first, to read with the rest of the page's."""
    return [seller_listings_key(listing.seller_id), copy_key(listing.seller_id, SHOWN + 1)]


def listing_more_from_seller(*, listing: Listing, limit: int = SHOWN) -> list[Listing]:
    """Up to `limit` other listings of `listing`'s seller that nobody holds, newest first, each
    with `listing`'s seller row."""
    count = limit + 1
    rows = _newest_on_sale(seller_id=listing.seller_id, count=count)
    others = [row for row in rows if row.pk != listing.pk][:limit]
    for other in others:
        other.seller = listing.seller
    return others


def _newest_on_sale(*, seller_id, count: int) -> list[Listing]:
    seconds = page_cache_seconds()
    if not seconds:
        return seller_newest_on_sale(seller_id=seller_id, count=count)
    key, on_sale = copy_key(seller_id, count), seller_listings_key(seller_id)
    found = cache_get_many([VERSION_KEY, on_sale, key])
    if found is None:  # the cache cannot be reached
        return seller_newest_on_sale(seller_id=seller_id, count=count)
    copy = found.get(key)
    if copy is not None:
        keys, filed_versions, rows = copy
        current = cache_get_many([*keys[1:], *_cards(rows)]) if keys[0] == on_sale else None
        if current is not None:
            current[on_sale] = found.get(on_sale)
            if [current.get(name) or 0 for name in keys] == filed_versions:
                return rows
    started = found.get(VERSION_KEY) or catalogue_version()
    rows = seller_newest_on_sale(seller_id=seller_id, count=count)
    if started is not None:
        keys = [on_sale, *(listing_key(row.pk) for row in rows)]
        current = cache_get_many([*keys, *_cards(rows)])
        if current is not None:
            filed_versions = [current.get(name) or 0 for name in keys]
            # Something changed after the reading began: the rows may be from before the change.
            if not any(version > started for version in filed_versions):
                cache_set(key, (keys, filed_versions, rows), COPY_SECONDS)
    return rows


def _cards(rows) -> list[str]:
    """The keys of the rows' cards, read with their versions: the page draws them next."""
    return card_keys(rows, hide_seller=CARDS_HIDE_SELLER)
