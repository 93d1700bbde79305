"""The cache keys a listing's page reads, so that the view reads them in one round trip
(marketplace.page_cache.read_ahead) instead of one per part of the page.

The parts drawn by higher apps (ratings' seller reputation, payments' sold prices) name their own
keys: each registers a function of the listing with `listing_page_reads_register` when its module
is loaded (at start-up: their apps' ready() import them), since marketplace imports neither.
"""

from collections.abc import Callable

from marketplace.more_from_seller import more_from_seller_keys
from marketplace.page_cache import VERSION_KEY

_readers: list[Callable] = []


def listing_page_reads_register(reader: Callable) -> None:
    """`reader(listing)` names cache keys the listing's page reads (once per reader)."""
    if reader not in _readers:
        _readers.append(reader)


def listing_page_keys(listing) -> list[str]:
    """Every key the listing's page reads that is known before it is drawn."""
    keys = [VERSION_KEY, *more_from_seller_keys(listing)]
    for reader in _readers:
        keys.extend(reader(listing))
    return keys
