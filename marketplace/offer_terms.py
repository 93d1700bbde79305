"""Whether a listing takes offers, and the lowest one its seller will consider.

The offers themselves are the offers app's (above payments); the terms live on the listing
because the seller sets them on the listing form, beside the price. The minimum is never shown
to a buyer: an offer below it is declined at once with words that do not give it away
(docs/architecture.md, "Offers").
"""

from django.db import transaction

from core.errors import Conflict, DomainError
from marketplace.models import MIN_PRICE_CENTS, Listing, ListingStatus
from marketplace.rules import ListingNotFound


class InvalidOfferMinimum(DomainError):
    code = "invalid_offer_minimum"
    message = "The lowest offer you consider must be at least $0.50 and below your price."


class OfferTermsLocked(Conflict):
    code = "offer_terms_locked"
    message = (
        "Offers cannot be turned on or off, nor the lowest offer changed, while a buyer is paying for "
        "this stub or after it has sold."
    )


def offer_minimum_check(*, price_cents: int, minimum_cents: int | None) -> None:
    if minimum_cents is None:
        return
    if isinstance(minimum_cents, bool) or not isinstance(minimum_cents, int):
        raise InvalidOfferMinimum()
    if not MIN_PRICE_CENTS <= minimum_cents < price_cents:
        raise InvalidOfferMinimum()


@transaction.atomic
def listing_offer_terms_set(*, listing_id: int, seller, enabled: bool, minimum_cents: int | None) -> Listing:
    """The owner turns offers on or off and sets (or clears) the hidden minimum. A no-op when
    nothing changes; refused while a buyer holds the stub and once sold, as the price is. Offers
    already open stay open: the seller still answers them."""
    try:
        mine = Listing.objects.select_for_update().filter(seller_id=getattr(seller, "pk", None))
        listing = mine.get(pk=listing_id)
    except (Listing.DoesNotExist, ValueError, TypeError):
        raise ListingNotFound() from None
    enabled = bool(enabled)
    minimum_cents = minimum_cents if enabled else None
    if (listing.offers_enabled, listing.offer_minimum_cents) == (enabled, minimum_cents):
        return listing
    offer_minimum_check(price_cents=listing.price_cents, minimum_cents=minimum_cents)
    if listing.status == ListingStatus.SOLD or listing.reservation_is_live():
        # Frozen like the price: a buyer holding the stub may be paying an accepted offer's price.
        raise OfferTermsLocked()
    listing.offers_enabled, listing.offer_minimum_cents = enabled, minimum_cents
    listing.save(update_fields=["offers_enabled", "offer_minimum_cents", "updated_at"])
    return listing
