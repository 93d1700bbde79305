"""Reads of offers: one for a party (404 for anybody else), a buyer's and a seller's lists, the
listing page's box, and the agreed price checkout charges (docs/architecture.md, "Offers")."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import NotFound
from marketplace.models import ListingStatus
from offers.models import Offer, OfferStatus


class OfferNotFound(NotFound):
    code = "offer_not_found"
    message = "No such offer."


def offer_for_party(*, offer_id, user) -> Offer:
    """The offer if `user` is its buyer or seller; OfferNotFound for everybody else (staff
    included: they read offers in admin), so nobody learns that it exists."""
    try:
        return Offer.objects.select_related("listing__stub", "buyer", "seller").get(
            Q(buyer_id=user.pk) | Q(seller_id=user.pk), pk=int(offer_id)
        )
    except (Offer.DoesNotExist, ValueError, TypeError, OverflowError):
        raise OfferNotFound() from None


def _listed(qs: QuerySet[Offer]) -> QuerySet[Offer]:
    return qs.select_related("listing__stub", "buyer", "seller").order_by("-updated_at", "-pk")


def offers_made(*, buyer) -> QuerySet[Offer]:
    return _listed(Offer.objects.filter(buyer=buyer))


def offers_received(*, seller) -> QuerySet[Offer]:
    return _listed(Offer.objects.filter(seller=seller))


def offers_awaiting(*, user, now=None) -> int:
    """Offers waiting for `user`'s answer (the dashboard's and the list's badge)."""
    now = now or timezone.now()
    return Offer.objects.filter(
        Q(seller=user, status=OfferStatus.PENDING) | Q(buyer=user, status=OfferStatus.COUNTERED),
        expires_at__gt=now,
    ).count()


def offer_latest_for(*, listing_id: int, buyer) -> Offer | None:
    """The buyer's newest offer on the listing, for the listing page's box."""
    return Offer.objects.filter(listing_id=listing_id, buyer=buyer).order_by("-created_at", "-pk").first()


def agreed_price(*, listing, buyer_id: int) -> int | None:
    """The price the buyer pays for `listing` by an accepted offer, or None (payments.agreed_prices).

    It holds while the listing is still held by the buyer from the acceptance (the same hold,
    perhaps extended by checkout): once that hold lapsed, was released or went to someone else,
    the listing's own price applies again. An open offer is no price at all. A listing that takes
    no offers has none (no query: its terms cannot change while a buyer holds it).
    """
    if not listing.offers_enabled:
        return None
    if listing.status != ListingStatus.RESERVED or listing.reserved_by_id != buyer_id:
        return None
    if listing.reserved_at is None:
        return None
    offer = (
        Offer.objects.filter(listing_id=listing.pk, buyer_id=buyer_id, status=OfferStatus.ACCEPTED)
        .only("agreed_cents", "held_at")
        .first()
    )
    if offer is None or offer.held_at != listing.reserved_at:
        return None
    return offer.agreed_cents
