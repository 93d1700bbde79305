"""The shipping charge of a listing: what a buyer pays on top of the price for postage.

Kept beside (not inside) `marketplace.services` so the listing rules there stay one module's
business; the same locking rule applies: what a buyer pays is frozen while a buyer holds the
stub and once it has sold. Fee policy and limits: docs/shipping.md.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import Conflict, DomainError
from marketplace.models import MAX_PRICE_CENTS, MAX_SHIPPING_CENTS, Listing, ListingStatus
from marketplace.services import (
    ListingNotFound,
    listing_terms_change_check,
    listing_terms_change_prepare,
)


class InvalidShipping(DomainError):
    code = "invalid_shipping"
    message = (
        "Shipping must be between $0.00 (free) and $100.00, and price plus shipping within "
        "Stripe's limit."
    )


class ShippingLocked(Conflict):
    code = "shipping_locked"
    message = "Shipping cannot change while a buyer is paying for this stub or after it has sold."


def shipping_check(*, price_cents: int, shipping_cents: int) -> None:
    if isinstance(shipping_cents, bool) or not isinstance(shipping_cents, int):
        raise InvalidShipping()
    if not 0 <= shipping_cents <= MAX_SHIPPING_CENTS or price_cents + shipping_cents > MAX_PRICE_CENTS:
        raise InvalidShipping()


def listing_shipping_set(
    *, listing_id: int, seller, shipping_cents: int, now: datetime | None = None
) -> Listing:
    """The owner sets the shipping charge (0 for free shipping). A no-op when it is unchanged.
    Like a price change, lapsed checkouts' PaymentIntents are cancelled first, so none can
    still take money for the old terms."""
    now = now or timezone.now()
    if isinstance(shipping_cents, int) and not isinstance(shipping_cents, bool):
        listing_terms_change_prepare(
            listing_id=listing_id, seller=seller, now=now, unchanged=Q(shipping_cents=shipping_cents)
        )
    with transaction.atomic():
        return _listing_shipping_set_locked(
            listing_id=listing_id, seller=seller, shipping_cents=shipping_cents, now=now
        )


def _listing_shipping_set_locked(*, listing_id, seller, shipping_cents, now) -> Listing:
    try:
        mine = Listing.objects.select_for_update().filter(seller_id=getattr(seller, "pk", None))
        listing = mine.get(pk=listing_id)
    except (Listing.DoesNotExist, ValueError, TypeError):
        raise ListingNotFound() from None
    if listing.shipping_cents == shipping_cents:
        return listing
    shipping_check(price_cents=listing.price_cents, shipping_cents=shipping_cents)
    if listing.status == ListingStatus.SOLD or listing.reservation_is_live(now):
        raise ShippingLocked()
    listing_terms_change_check(listing=listing, now=now)
    listing.shipping_cents = shipping_cents
    listing.save(update_fields=["shipping_cents", "updated_at"])
    return listing
