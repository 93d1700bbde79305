"""The price a buyer pays for a listing when it is not the listing's own: an offer its seller
accepted (the offers app, above payments, answers from OffersConfig.ready).

Checkout opens the order at `listing_total_for` (never a price from the client), keeps a reloaded
order only while it still matches it, and the payment events honour a success only at it. With
nothing registered every buyer pays the listing's price.
"""

from collections.abc import Callable


def _no_agreed_price(*, listing, buyer_id: int) -> int | None:
    return None


# (listing, buyer_id) -> the agreed price of the stub in cents (shipping not included), or None.
_agreed_price: Callable[..., int | None] = _no_agreed_price


def agreed_price_register(rule: Callable[..., int | None]) -> None:
    """The offers app's rule (OffersConfig.ready); registering again replaces it."""
    global _agreed_price
    _agreed_price = rule


def listing_price_for(*, listing, buyer_id: int | None) -> int:
    """What the buyer pays for the stub itself: an agreed price, else the listing's price
    (`buyer_id` None: an anonymous visitor, who has agreed nothing)."""
    agreed = _agreed_price(listing=listing, buyer_id=buyer_id) if buyer_id is not None else None
    return listing.price_cents if agreed is None else agreed


def listing_total_for(*, listing, buyer_id: int | None) -> int:
    """What the buyer pays in all (the PaymentIntent's amount): that price plus the shipping."""
    return listing_price_for(listing=listing, buyer_id=buyer_id) + listing.shipping_cents
