"""Writes of the offers feature (docs/architecture.md, "Offers"): making an offer, the seller's
answers (accept, decline, counter), the buyer's answers to a counter (accept, decline) and
withdrawing an offer, the expiry and the voiding of offers on a stub that left the sale, and the
emails of each step.

Locks, always in this order: the buyer's user row, the listing row, the offer row (the order
checkout's `listing_reserve` takes the first two in), so an accept racing another accept or a
checkout ends with one buyer holding the stub. Each answer re-checks the offer under its lock;
an offer whose time ran out is marked expired when it is next read, so a late answer is refused
even before beat's sweep (`offers.expire_offers`) has run.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.email import email_send
from core.errors import Conflict, DomainError
from core.money import format_usd
from core.site import absolute_url
from marketplace.models import MAX_PRICE_CENTS, MIN_PRICE_CENTS, Listing, ListingStatus
from marketplace.selectors import listing_visible_to
from marketplace.services import (
    HoldCoolingDown,
    ListingUnavailable,
    TooManyHolds,
    listing_purchase_blocker,
    listing_reserve,
)
from offers.models import OPEN_STATUSES, Offer, OfferStatus
from offers.selectors import offer_for_party
from payments.models import Order, OrderStatus
from payments.services.audit import audit_record
from payments.services.checkout import listing_stale_payments_cancel

logger = logging.getLogger(__name__)

# The same offer again from the same buyer within this time is one offer (a double click).
DUPLICATE_WINDOW = datetime.timedelta(seconds=60)


def response_time() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.OFFER_RESPONSE_HOURS)


class InvalidOfferAmount(DomainError):
    code = "invalid_amount"
    message = "An offer must be between $0.50 and $999,999.99."


class OwnListing(Conflict):
    code = "own_listing"
    message = "This is your own listing: buyers make their offers to you here."


class OffersNotTaken(Conflict):
    code = "offers_not_taken"
    message = "The seller does not take offers on this stub."


class ListingNotOnSale(Conflict):
    code = "listing_not_on_sale"
    message = "This stub is no longer on sale."


class OfferNotBelowPrice(DomainError):
    code = "offer_not_below_price"

    def __init__(self, price_cents: int):
        super().__init__(
            f"An offer is below the asking price of {format_usd(price_cents)}; at that price you "
            "can buy it straight away."
        )


class OfferOpenAlready(Conflict):
    code = "offer_open"
    message = "You have an offer waiting for an answer on this stub already: withdraw it first to change it."


class TooManyOffers(Conflict):
    code = "too_many_offers"

    def __init__(self, limit: int):
        super().__init__(
            f"You have {limit} offers waiting for an answer, as many as one buyer may. Wait for an "
            "answer or withdraw one first."
        )


class OfferExpired(Conflict):
    code = "offer_expired"
    message = "This offer has expired: it was not answered in time."


class OfferClosed(Conflict):
    code = "offer_closed"

    def __init__(self, offer: Offer):
        super().__init__(f"This offer is closed ({offer.get_status_display().lower()}).")


class NotYourTurn(Conflict):
    code = "not_your_turn"
    message = "This offer is waiting for the other side's answer."


class OfferAmountChanged(Conflict):
    code = "offer_amount_changed"
    message = "The amount on this offer is not the one you confirmed. Look at the offer again."


class InvalidCounter(DomainError):
    code = "invalid_counter"

    def __init__(self, offer: Offer, price_cents: int):
        super().__init__(
            f"A counter-offer is above the buyer's {format_usd(offer.amount_cents)} and below your "
            f"price of {format_usd(price_cents)}."
        )


class OfferNotBelowPriceNow(Conflict):
    code = "offer_not_below_price"
    message = (
        "The stub's price is now at or below this offer, so it cannot be accepted: at the price, "
        "the buyer can buy it straight away."
    )


class ListingHeld(Conflict):
    code = "listing_held"
    message = (
        "A buyer is paying for this stub right now, so no offer can be accepted until that checkout "
        "ends. The offer stays open: try again in a few minutes."
    )


def _amount_check(amount_cents) -> int:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise InvalidOfferAmount()
    if not MIN_PRICE_CENTS <= amount_cents <= MAX_PRICE_CENTS:
        raise InvalidOfferAmount()
    return amount_cents


def _lock_buyer(user_id: int) -> None:
    get_user_model().objects.select_for_update().only("pk").get(pk=user_id)


def _lock_listing(listing_id: int) -> Listing:
    return Listing.objects.select_for_update().select_related("seller", "stub").get(pk=listing_id)


def offer_allowed_check(*, listing: Listing, buyer) -> None:
    """May `buyer` make an offer on `listing` now? OwnListing, ListingNotOnSale, OffersNotTaken,
    or the purchase blocker's ListingUnavailable (a seller who cannot take payments yet). Someone
    else paying right now is no reason: that checkout may lapse."""
    if listing.seller_id == buyer.pk:
        raise OwnListing()
    if listing.status not in (ListingStatus.ACTIVE, ListingStatus.RESERVED):
        raise ListingNotOnSale()
    if not listing.offers_enabled:
        raise OffersNotTaken()
    blocker = listing_purchase_blocker(listing=listing, buyer=buyer)
    if blocker and blocker.code != "reserved":
        raise ListingUnavailable(str(blocker), reason=blocker.code)


def offer_make(*, listing_id, buyer, amount_cents, request=None, now=None) -> Offer:
    """A buyer's offer. Below the seller's hidden minimum it is declined at once, with words that
    do not give the minimum away. The same offer again within DUPLICATE_WINDOW (or while the first
    waits) returns the first; `offer.duplicate` says which."""
    now = now or timezone.now()
    listing = listing_visible_to(listing_id=listing_id, viewer=buyer)
    amount_cents = _amount_check(amount_cents)
    with transaction.atomic():
        _lock_buyer(buyer.pk)  # counts the buyer's open offers under a lock: two at once make one
        listing = _lock_listing(listing.pk)
        offer_allowed_check(listing=listing, buyer=buyer)
        if amount_cents >= listing.price_cents:
            raise OfferNotBelowPrice(listing.price_cents)
        same = Offer.objects.filter(listing=listing, buyer=buyer, amount_cents=amount_cents)
        duplicate = same.filter(status__in=OPEN_STATUSES, expires_at__gt=now).first() or same.filter(
            declined_automatically=True, created_at__gte=now - DUPLICATE_WINDOW
        ).first()
        if duplicate is not None:
            duplicate.duplicate = True
            return duplicate
        waiting = Offer.objects.filter(listing=listing, buyer=buyer, status__in=OPEN_STATUSES).first()
        if waiting is not None and waiting.expires_at > now:
            raise OfferOpenAlready()
        if waiting is not None:  # overdue and not swept yet: it expires now, quietly
            _expired(waiting, now=now, notify=False)
        limit = settings.OFFERS_MAX_OPEN_PER_BUYER
        if Offer.objects.filter(buyer=buyer, status__in=OPEN_STATUSES, expires_at__gt=now).count() >= limit:
            raise TooManyOffers(limit)
        below_minimum = listing.offer_minimum_cents is not None and amount_cents < listing.offer_minimum_cents
        offer = Offer.objects.create(
            listing=listing,
            buyer=buyer,
            seller_id=listing.seller_id,
            amount_cents=amount_cents,
            status=OfferStatus.DECLINED if below_minimum else OfferStatus.PENDING,
            declined_automatically=below_minimum,
            expires_at=None if below_minimum else now + response_time(),
            answered_at=now if below_minimum else None,
        )
        audit_record(
            action="offer.declined_below_minimum" if below_minimum else "offer.made",
            actor=buyer, subject_user=listing.seller, request=request,
            data={"offer_id": offer.pk, "listing_id": listing.pk, "amount_cents": amount_cents},
        )
        if not below_minimum:
            _notify(offer, to=listing.seller, subject=f"An offer of {format_usd(amount_cents)} for "
                    f"{listing.stub.event_name}", step="made")
    offer.duplicate = False
    return offer


def _expired(offer: Offer, *, now, notify: bool = True) -> None:
    """Under the offer's lock: its time ran out. The side that waited is told."""
    waited = offer.buyer if offer.status == OfferStatus.PENDING else offer.seller
    offer.status, offer.updated_at = OfferStatus.EXPIRED, now
    offer.save(update_fields=["status", "updated_at"])
    audit_record(action="offer.expired", subject_user=offer.buyer, data={"offer_id": offer.pk})
    if notify:
        _notify(offer, to=waited, subject=f"The offer on {offer.listing.stub.event_name} expired",
                step="expired")


def offer_expire_if_due(*, offer_id: int, now=None) -> bool:
    """Mark the offer expired if its time ran out (the side that waited is emailed); True when it
    did, now or before. Answers and the offer's page call it, so nobody acts on an overdue offer
    before beat's sweep has run."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = _lock_offer(offer_id)
        if offer.status == OfferStatus.EXPIRED:
            return True
        if offer.status not in OPEN_STATUSES or offer.expires_at > now:
            return False
        _expired(offer, now=now)
        return True


def _answerable(*, offer_id, user, now) -> Offer:
    """The party's offer, with an overdue one marked expired first (and OfferExpired raised)."""
    offer = offer_for_party(offer_id=offer_id, user=user)
    if offer.is_open and offer.expires_at <= now:
        offer_expire_if_due(offer_id=offer.pk, now=now)
        raise OfferExpired()
    return offer


def _turn_check(offer: Offer, user, now) -> None:
    """Under the offer's lock: is it open, unexpired, and `user`'s turn?"""
    if offer.status == OfferStatus.EXPIRED or (offer.is_open and offer.expires_at <= now):
        raise OfferExpired()
    if not offer.is_open:
        raise OfferClosed(offer)
    if offer.turn_of() != user.pk:
        raise NotYourTurn()


def _lock_offer(offer_id: int) -> Offer:
    return Offer.objects.select_for_update().select_related("listing__stub", "buyer", "seller").get(
        pk=offer_id
    )


def offer_accept(*, offer_id, user, amount_cents, request=None, now=None) -> Offer:
    """The seller accepts a pending offer, or the buyer a counter. `amount_cents` is the amount
    the party confirmed; it must be the one on the table. The listing is held for the buyer
    (checkout's own hold, LISTING_RESERVATION_MINUTES) and checkout charges the agreed price.
    Accepting twice returns the accepted offer (`offer.duplicate`)."""
    now = now or timezone.now()
    offer = _answerable(offer_id=offer_id, user=user, now=now)
    if offer.status in (OfferStatus.ACCEPTED, OfferStatus.PAID):
        offer.duplicate = True
        return offer
    _turn_check(offer, user, now)
    if amount_cents != offer.on_the_table_cents:
        raise OfferAmountChanged()
    # Earlier buyers' lapsed or failed PaymentIntents are cancelled before this buyer's hold
    # replaces theirs, as checkout does (Stripe is never called under a lock).
    listing_stale_payments_cancel(listing_id=offer.listing_id, keep_buyer=offer.buyer, request=request)
    try:
        with transaction.atomic():
            _lock_buyer(offer.buyer_id)
            listing = _lock_listing(offer.listing_id)
            locked = _lock_offer(offer.pk)
            if locked.status in (OfferStatus.ACCEPTED, OfferStatus.PAID):
                locked.duplicate = True  # a second click that waited for the first one's locks
                return locked
            _turn_check(locked, user, now)
            if listing.reservation_is_live(now):
                raise ListingHeld()  # someone (the buyer too, at the full price) is paying now
            if amount_cents >= listing.price_cents:
                raise OfferNotBelowPriceNow()  # repriced since: never more than the asking price
            if amount_cents != locked.on_the_table_cents:
                raise OfferAmountChanged()
            listing = listing_reserve(listing_id=listing.pk, buyer=locked.buyer, now=now)
            # An accepted offer whose hold ended without a sale, not swept yet, makes room.
            Offer.objects.filter(listing=listing, status=OfferStatus.ACCEPTED).exclude(pk=locked.pk).update(
                status=OfferStatus.LAPSED, updated_at=now
            )
            locked.status, locked.agreed_cents = OfferStatus.ACCEPTED, amount_cents
            locked.held_at, locked.answered_at, locked.expires_at = listing.reserved_at, now, None
            locked.reserved_until = listing.reserved_until  # for the email and the page
            locked.save(update_fields=[
                "status", "agreed_cents", "held_at", "answered_at", "expires_at", "updated_at",
            ])
            audit_record(
                action="offer.accepted", actor=user, subject_user=locked.buyer, request=request,
                data={"offer_id": locked.pk, "listing_id": listing.pk, "agreed_cents": amount_cents,
                      "reserved_until": listing.reserved_until.isoformat()},
            )
            subject = f"Offer accepted: {listing.stub.event_name} for {format_usd(amount_cents)}"
            if user.pk == locked.seller_id:
                _notify(locked, to=locked.buyer, subject=subject, step="accepted_by_seller")
            else:
                _notify(locked, to=locked.seller, subject=subject, step="accepted_by_buyer")
    except (TooManyHolds, HoldCoolingDown) as error:
        if user.pk == offer.buyer_id:
            raise
        raise Conflict(
            "The buyer cannot hold this stub right now (they are checking out other stubs, or let a "
            "hold on this one lapse a moment ago). The offer stays open: try again in a few minutes.",
            code="buyer_cannot_hold",
        ) from error
    except IntegrityError:  # another accepted offer on this listing made it first
        raise ListingHeld() from None
    locked.duplicate = False
    return locked


def offer_decline(*, offer_id, user, request=None, now=None) -> Offer:
    """The seller declines a pending offer, or the buyer a counter. Twice is once."""
    now = now or timezone.now()
    offer = _answerable(offer_id=offer_id, user=user, now=now)
    if offer.status == OfferStatus.DECLINED:
        offer.duplicate = True
        return offer
    with transaction.atomic():
        locked = _lock_offer(offer.pk)
        _turn_check(locked, user, now)
        locked.status, locked.answered_at, locked.expires_at = OfferStatus.DECLINED, now, None
        locked.save(update_fields=["status", "answered_at", "expires_at", "updated_at"])
        audit_record(action="offer.declined", actor=user, subject_user=locked.buyer, request=request,
                     data={"offer_id": locked.pk})
        other = locked.buyer if user.pk == locked.seller_id else locked.seller
        _notify(locked, to=other, subject=f"Offer declined: {locked.listing.stub.event_name}",
                step="declined_by_seller" if user.pk == locked.seller_id else "declined_by_buyer")
    locked.duplicate = False
    return locked


def offer_counter(*, offer_id, seller, amount_cents, request=None, now=None) -> Offer:
    """The seller answers a pending offer with a price between the buyer's and their own; the
    buyer then has OFFER_RESPONSE_HOURS to accept or decline it. The same counter twice is once."""
    now = now or timezone.now()
    amount_cents = _amount_check(amount_cents)
    offer = _answerable(offer_id=offer_id, user=seller, now=now)
    if offer.status == OfferStatus.COUNTERED and offer.counter_cents == amount_cents:
        offer.duplicate = True
        return offer
    with transaction.atomic():
        locked = _lock_offer(offer.pk)
        _turn_check(locked, seller, now)
        price_cents = locked.listing.price_cents
        if not locked.amount_cents < amount_cents < price_cents:
            raise InvalidCounter(locked, price_cents)
        locked.status, locked.counter_cents = OfferStatus.COUNTERED, amount_cents
        locked.answered_at, locked.expires_at = now, now + response_time()
        locked.save(update_fields=["status", "counter_cents", "answered_at", "expires_at", "updated_at"])
        audit_record(action="offer.countered", actor=seller, subject_user=locked.buyer, request=request,
                     data={"offer_id": locked.pk, "counter_cents": amount_cents})
        _notify(locked, to=locked.buyer, subject=f"A counter-offer of {format_usd(amount_cents)} for "
                f"{locked.listing.stub.event_name}", step="countered")
    locked.duplicate = False
    return locked


def offer_withdraw(*, offer_id, buyer, request=None, now=None) -> Offer:
    """The buyer takes back an offer still waiting for an answer (theirs or the seller's)."""
    now = now or timezone.now()
    offer = _answerable(offer_id=offer_id, user=buyer, now=now)
    if offer.buyer_id != buyer.pk:
        raise NotYourTurn("Only the buyer can withdraw an offer.")
    if offer.status == OfferStatus.WITHDRAWN:
        offer.duplicate = True
        return offer
    with transaction.atomic():
        locked = _lock_offer(offer.pk)
        if not locked.is_open:
            raise OfferClosed(locked)
        locked.status, locked.answered_at, locked.expires_at = OfferStatus.WITHDRAWN, now, None
        locked.save(update_fields=["status", "answered_at", "expires_at", "updated_at"])
        audit_record(action="offer.withdrawn", actor=buyer, subject_user=locked.seller, request=request,
                     data={"offer_id": locked.pk})
        _notify(locked, to=locked.seller, subject=f"Offer withdrawn: {locked.listing.stub.event_name}",
                step="withdrawn")
    locked.duplicate = False
    return locked


# -- the stub left the sale, the offer was paid, and the sweep -----------------------------------


def offers_void_for_listing(*, listing_id: int, now=None) -> int:
    """The listing was sold or withdrawn: its open and accepted offers are void, and each buyer
    is told (not the one who bought it). Returns how many. Harmless to run twice."""
    now = now or timezone.now()
    listing = Listing.objects.select_related("stub").get(pk=listing_id)
    if listing.status not in (ListingStatus.SOLD, ListingStatus.WITHDRAWN):
        return 0
    bought_by = (
        Order.objects.filter(listing_id=listing_id, paid_at__isnull=False).order_by("-paid_at")
        .values_list("buyer_id", flat=True).first()
        if listing.status == ListingStatus.SOLD else None
    )
    voided = 0
    live = (*OPEN_STATUSES, OfferStatus.ACCEPTED)
    for offer_id in Offer.objects.filter(listing_id=listing_id, status__in=live).values_list("pk", flat=True):
        with transaction.atomic():
            offer = Offer.objects.select_for_update().select_related("listing__stub", "buyer").filter(
                pk=offer_id, status__in=live
            ).first()
            if offer is None:
                continue
            offer.status, offer.expires_at = OfferStatus.VOID, None
            offer.save(update_fields=["status", "expires_at", "updated_at"])
            audit_record(action="offer.void", subject_user=offer.buyer,
                         data={"offer_id": offer.pk, "listing_status": listing.status})
            if offer.buyer_id != bought_by:
                _notify(offer, to=offer.buyer, subject=f"{listing.stub.event_name} is no longer on sale",
                        step="void_sold" if listing.status == ListingStatus.SOLD else "void_withdrawn")
            voided += 1
    return voided


def listing_saved(sender, instance, raw=False, **kwargs) -> None:
    """post_save of Listing: a listing that is now sold or withdrawn voids its offers after the
    commit (the sweep catches a write that bypassed save())."""
    if raw or instance.status not in (ListingStatus.SOLD, ListingStatus.WITHDRAWN):
        return
    listing_id = instance.pk
    transaction.on_commit(lambda: offers_void_for_listing(listing_id=listing_id))


def order_status_changed_receiver(sender, order, to_status, **kwargs) -> None:
    """payments.signals.order_status_changed: an order paid at an accepted offer's price pays the
    offer (in the payment's transaction, before the sale voids the listing's other offers)."""
    if to_status != OrderStatus.PAID:
        return
    Offer.objects.filter(
        listing_id=order.listing_id, buyer_id=order.buyer_id, status=OfferStatus.ACCEPTED,
        agreed_cents=order.amount_cents - order.shipping_cents,
    ).update(status=OfferStatus.PAID, order=order, updated_at=timezone.now())


def _hold_still_theirs(offer: Offer) -> bool:
    listing = offer.listing
    return (
        listing.status == ListingStatus.RESERVED
        and listing.reserved_by_id == offer.buyer_id
        and listing.reserved_at == offer.held_at
    )


def offers_sweep(*, now=None) -> dict:
    """Beat's work (every minute): open offers whose time ran out expire; accepted offers whose
    hold ended unpaid lapse (the buyer is told the price no longer holds); offers on stubs that
    left the sale are void. Returns the counts."""
    now = now or timezone.now()
    expired = sum(
        1 for offer_id in Offer.objects.filter(status__in=OPEN_STATUSES, expires_at__lte=now)
        .values_list("pk", flat=True) if offer_expire_if_due(offer_id=offer_id, now=now)
    )
    lapsed = 0
    for offer in Offer.objects.filter(status=OfferStatus.ACCEPTED).select_related("listing"):
        if _hold_still_theirs(offer) or offer.listing.status in (ListingStatus.SOLD, ListingStatus.WITHDRAWN):
            continue
        with transaction.atomic():
            locked = _lock_offer(offer.pk)
            if locked.status != OfferStatus.ACCEPTED or _hold_still_theirs(locked):
                continue
            locked.status = OfferStatus.LAPSED
            locked.save(update_fields=["status", "updated_at"])
            audit_record(action="offer.lapsed", subject_user=locked.buyer, data={"offer_id": locked.pk})
            _notify(locked, to=locked.buyer, subject=f"Your hold on {locked.listing.stub.event_name} ended",
                    step="lapsed")
            lapsed += 1
    left_sale = Offer.objects.filter(
        status__in=(*OPEN_STATUSES, OfferStatus.ACCEPTED),
        listing__status__in=(ListingStatus.SOLD, ListingStatus.WITHDRAWN),
    ).values_list("listing_id", flat=True).distinct()
    void = sum(offers_void_for_listing(listing_id=listing_id, now=now) for listing_id in list(left_sale))
    return {"expired": expired, "lapsed": lapsed, "void": void}


# -- emails ---------------------------------------------------------------------------------------


def _notify(offer: Offer, *, to, subject: str, step: str) -> None:
    """Queue the step's email to `to` after the commit (templates/emails/offer_news.*)."""
    listing = offer.listing
    context = {
        "recipient": to,
        "step": step,
        "stub": listing.stub,
        "offer": offer,
        "amount": format_usd(offer.amount_cents),
        "counter": format_usd(offer.counter_cents) if offer.counter_cents is not None else "",
        "agreed": format_usd(offer.agreed_cents) if offer.agreed_cents is not None else "",
        "shipping": format_usd(listing.shipping_cents) if listing.shipping_cents else "",
        "hours": settings.OFFER_RESPONSE_HOURS,
        "minutes": settings.LISTING_RESERVATION_MINUTES,
        "url": absolute_url(reverse("offers:detail", args=[offer.pk])),
        "checkout_url": absolute_url(reverse("payments_pages:checkout", args=[listing.pk])),
        "listing_url": absolute_url(reverse("marketplace:listing_detail", args=[listing.pk])),
    }
    address = to.email
    transaction.on_commit(
        lambda: email_send(to=address, subject=subject, template="offer_news", context=context)
    )
