"""The listing rules the photo pipeline shares with the listing writes (marketplace.services
builds on marketplace.photos, so what both need lives below them, here). marketplace.services
imports them too, where callers have always found them."""

from datetime import datetime

from core.errors import Conflict, NotFound
from marketplace.models import Listing, ListingStatus


class ListingNotFound(NotFound):
    code = "listing_not_found"
    message = "No such listing."


class ListingContentLocked(Conflict):
    code = "listing_content_locked"
    message = (
        "This stub has been sold, so its description, condition and photos stay as the buyer "
        "bought them."
    )


def listing_content_change_check(*, listing: Listing, now: datetime | None = None) -> None:
    """Under the listing's lock, before the stub's facts or photos change: refused while the
    listing has a live order (a buyer paying, or sold). The order keeps a snapshot taken at
    payment, but the buyer paid for what the page showed, and a sold stub's page stays true."""
    if listing.status == ListingStatus.SOLD:
        raise ListingContentLocked()
    if listing.reservation_is_live(now):
        raise ListingContentLocked(
            "A buyer is paying for this stub right now, so its description, condition and photos "
            "cannot change until the checkout ends."
        )
