"""Listing rules and the writes that change listings.

Every write locks the listing row (`select_for_update`) before it checks anything, so two
buyers racing for one stub cannot both reserve it. The checkout and webhook code call
`listing_reserve`, `listing_release`, `listing_mark_sold` and `listing_return_to_sale`.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import Conflict, DomainError, PermissionDenied
from marketplace import images
from marketplace.models import MAX_PRICE_CENTS, MIN_PRICE_CENTS, Listing, ListingStatus, Stub
from marketplace.page_cache import cache_get_many, cache_set
from marketplace.photos import stub_cover_replace, stub_photos_add
from marketplace.rules import ListingContentLocked as ListingContentLocked
from marketplace.rules import ListingNotFound as ListingNotFound
from marketplace.rules import listing_content_change_check as listing_content_change_check


class ListingUnavailable(DomainError):
    code = "listing_unavailable"
    status = 409
    message = "This stub cannot be bought right now."

    def __init__(self, message: str | None = None, *, reason: str = "", **kwargs):
        super().__init__(message, **kwargs)
        # The blocker's own code (`reserved`, `sold`, …) for callers that branch on it.
        self.reason = reason


class NotASeller(PermissionDenied):
    code = "not_a_seller"
    message = "Only sellers can list stubs. Turn on selling on your profile first."


class PriceLocked(Conflict):
    code = "price_locked"
    message = "The price cannot change while a buyer is paying for this stub or after it has sold."


class ListingNotWithdrawable(Conflict):
    code = "listing_not_withdrawable"


class InvalidPrice(DomainError):
    code = "invalid_price"
    message = "A price must be between $0.50 and $999,999.99 (Stripe's limits for one card payment)."


def _check_price(price_cents) -> None:
    if isinstance(price_cents, bool) or not isinstance(price_cents, int):
        raise InvalidPrice()
    if not MIN_PRICE_CENTS <= price_cents <= MAX_PRICE_CENTS:
        raise InvalidPrice()


class LoginRequired(PermissionDenied):
    code = "not_authenticated"
    message = "Log in to buy this stub."


class PurchaseBlocker(str):
    """Why a listing cannot be bought: a `str` (the plain-words message) with a `code`.

    Being a string keeps `if blocker:` and `raise ListingUnavailable(blocker)` natural;
    `.code` and `.as_dict()` feed the JSON routes.
    """

    code: str

    def __new__(cls, code: str, message: str):
        obj = super().__new__(cls, message)
        obj.code = code
        return obj

    @property
    def message(self) -> str:
        return str(self)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self)}


BLOCKER_MESSAGES = {
    "not_active": "This stub is not on sale.",
    "withdrawn": "The seller has withdrawn this stub.",
    "sold": "This stub has already been sold.",
    "reserved": "Another buyer is paying for this stub right now. Try again in a few minutes.",
    "own_listing": "This is your own listing; you cannot buy it.",
    "seller_cannot_accept_payments": (
        "The seller has not finished setting up payments yet, so this stub cannot be bought for now."
    ),
}


def _blocker(code: str) -> PurchaseBlocker:
    return PurchaseBlocker(code, BLOCKER_MESSAGES[code])


def _is_authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def listing_purchase_blocker(
    *, listing: Listing, buyer=None, now: datetime | None = None
) -> PurchaseBlocker | None:
    """The first reason `buyer` cannot buy `listing` now, or None when nothing stands in the way.

    An anonymous (or None) buyer is judged as if logged in: the page still says "Buy",
    and login comes first at checkout.
    """
    now = now or timezone.now()
    if listing.status == ListingStatus.SOLD:
        return _blocker("sold")
    if listing.status == ListingStatus.WITHDRAWN:
        return _blocker("withdrawn")
    if listing.status not in (ListingStatus.ACTIVE, ListingStatus.RESERVED):
        return _blocker("not_active")
    buyer_id = buyer.pk if _is_authenticated(buyer) else None
    if buyer_id is not None and listing.seller_id == buyer_id:
        return _blocker("own_listing")
    if listing.reservation_is_live(now) and listing.reserved_by_id != buyer_id:
        return _blocker("reserved")
    if not listing.seller.can_accept_payments:
        return _blocker("seller_cannot_accept_payments")
    return None


def listing_can_be_purchased(*, listing: Listing, buyer=None, now: datetime | None = None) -> bool:
    return listing_purchase_blocker(listing=listing, buyer=buyer, now=now) is None


def reservation_length() -> timedelta:
    return timedelta(minutes=settings.LISTING_RESERVATION_MINUTES)


def _lock_listing(listing_id) -> Listing:
    try:
        return Listing.objects.select_for_update().select_related("seller").get(pk=listing_id)
    except (Listing.DoesNotExist, ValueError, TypeError):
        raise ListingNotFound() from None


def _clear_reservation(listing: Listing) -> None:
    listing.reserved_by = None
    listing.reserved_until = None
    listing.reserved_at = None


class TooManyHolds(Conflict):
    code = "too_many_holds"

    def __init__(self, limit: int):
        super().__init__(
            f"You are already checking out {limit} other stubs. Finish or let one of those go first."
        )


class HoldExhausted(ListingUnavailable):
    message = (
        "Your hold on this stub ran for as long as a hold can, so it goes back on sale for "
        "everyone. Please try again in a few minutes."
    )

    def __init__(self):
        super().__init__(reason="hold_exhausted")


class HoldCoolingDown(ListingUnavailable):
    def __init__(self, minutes: int):
        super().__init__(
            "Your hold on this stub ran out, so other buyers get their turn first. You can hold "
            f"it again in {minutes} minute{'s' if minutes != 1 else ''}.",
            reason="hold_cooldown",
        )


def _hold_cooldown_key(*, listing_id, buyer_id) -> str:
    return f"marketplace:hold-lapsed:{listing_id}:{buyer_id}"


def _hold_lapse_record(listing: Listing, *, now) -> None:
    """The listing's holder let the hold run out: they may not take it again for
    HOLD_COOLDOWN_MINUTES after it lapsed (so a stub cannot be held for ever by re-taking it the
    moment the sweep frees it). Kept in the shared cache: a flushed or unreachable cache forgets
    cooldowns, never blocks a hold."""
    minutes = settings.HOLD_COOLDOWN_MINUTES
    lapsed_at = listing.reserved_until
    if not minutes or listing.reserved_by_id is None or lapsed_at is None or lapsed_at > now:
        return
    cache_set(_hold_cooldown_key(listing_id=listing.pk, buyer_id=listing.reserved_by_id),
              lapsed_at.timestamp(), minutes * 60)


def _hold_cooldown_check(listing: Listing, *, buyer, now) -> None:
    minutes = settings.HOLD_COOLDOWN_MINUTES
    if not minutes:
        return
    key = _hold_cooldown_key(listing_id=listing.pk, buyer_id=buyer.pk)
    lapsed_at = (cache_get_many([key]) or {}).get(key)
    if lapsed_at is None:
        return
    left = lapsed_at + minutes * 60 - now.timestamp()
    if left > 0:
        raise HoldCoolingDown(math.ceil(left / 60))


def _lock_buyer(buyer) -> None:
    """Serialise one buyer's reservations, so parallel checkouts of different stubs cannot all
    pass the hold cap (each locks a different listing row)."""
    get_user_model().objects.select_for_update().only("pk").get(pk=buyer.pk)


def _live_holds_elsewhere(*, listing: Listing, buyer, now) -> int:
    return (
        Listing.objects.filter(reserved_by=buyer, status=ListingStatus.RESERVED, reserved_until__gt=now)
        .exclude(pk=listing.pk)
        .count()
    )


@transaction.atomic
def listing_reserve(*, listing_id: int, buyer, now: datetime | None = None) -> Listing:
    """Hold the listing for `buyer` for LISTING_RESERVATION_MINUTES.

    A buyer holds at most MAX_ACTIVE_RESERVATIONS_PER_BUYER stubs at once. The same buyer
    reserving again (a reload of the checkout page) extends the hold, but a hold never runs
    past twice its length from when it began: after that the stub goes back to everyone (the
    sweep releases it). A lapsed reservation by someone else is simply taken over.
    """
    return listing_reserve_in_transaction(listing_id=listing_id, buyer=buyer, now=now)


def listing_reserve_in_transaction(*, listing_id: int, buyer, now: datetime | None = None) -> Listing:
    """`listing_reserve` inside the caller's transaction, without a savepoint of its own.

    For a caller whose transaction is rolled back whole when this raises (the checkout's
    `checkout_order_open`): nested in it, `listing_reserve`'s atomic block is a savepoint, two
    more round trips while the buyer's and the listing's rows are locked, and nothing to undo:
    every refusal comes before the one write. Outside a transaction the row locks would end
    with each statement, so that is refused.
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("listing_reserve_in_transaction needs a transaction")
    if not _is_authenticated(buyer):
        raise LoginRequired()
    now = now or timezone.now()
    _lock_buyer(buyer)  # buyer first, then the listing: the one lock order for holds
    listing = _lock_listing(listing_id)  # lock before checking
    blocker = listing_purchase_blocker(listing=listing, buyer=buyer, now=now)
    if blocker:
        raise ListingUnavailable(str(blocker), reason=blocker.code)
    limit = settings.MAX_ACTIVE_RESERVATIONS_PER_BUYER
    if _live_holds_elsewhere(listing=listing, buyer=buyer, now=now) >= limit:
        raise TooManyHolds(limit)
    length = reservation_length()
    same_hold = (
        listing.status == ListingStatus.RESERVED
        and listing.reserved_by_id == buyer.pk
        and listing.reserved_at is not None
    )
    if same_hold:
        last_moment = listing.reserved_at + 2 * length  # extended at most once
        if now >= last_moment:
            raise HoldExhausted()
        listing.reserved_until = min(now + length, last_moment)
    else:
        _hold_cooldown_check(listing, buyer=buyer, now=now)
        _hold_lapse_record(listing, now=now)  # someone else's lapsed hold, taken over
        listing.reserved_at = now
        listing.reserved_until = now + length
    listing.status = ListingStatus.RESERVED
    listing.reserved_by = buyer
    listing.save(update_fields=["status", "reserved_by", "reserved_until", "reserved_at", "updated_at"])
    return listing


@transaction.atomic
def listing_release(*, listing_id: int, buyer=None) -> Listing:
    """Drop the reservation (only `buyer`'s, when given); a reserved listing goes back on sale.

    Harmless to call twice, or for a listing that was never reserved.
    """
    listing = _lock_listing(listing_id)
    if listing.reserved_by_id is None and listing.status != ListingStatus.RESERVED:
        return listing
    if buyer is not None and listing.reserved_by_id != buyer.pk:
        return listing  # someone else's hold: not ours to drop
    _hold_lapse_record(listing, now=timezone.now())
    _clear_reservation(listing)
    if listing.status == ListingStatus.RESERVED:
        listing.status = ListingStatus.ACTIVE
    listing.save(update_fields=["status", "reserved_by", "reserved_until", "reserved_at", "updated_at"])
    return listing


@transaction.atomic
def listing_mark_sold(*, listing_id: int, buyer) -> Listing:
    """The buyer's payment succeeded: the stub is sold, whatever happened to the hold meanwhile.

    Money has already moved, so this never refuses; the one-live-order-per-listing constraint
    on Order is what keeps two buyers from paying for the same stub. Idempotent.
    """
    listing = _lock_listing(listing_id)
    if listing.status == ListingStatus.SOLD:
        return listing
    listing.status = ListingStatus.SOLD
    _clear_reservation(listing)
    listing.save(update_fields=["status", "reserved_by", "reserved_until", "reserved_at", "updated_at"])
    return listing


@transaction.atomic
def listing_return_to_sale(*, listing_id: int) -> Listing:
    """A sold stub was fully refunded: put it back on sale, unless the seller withdrew it."""
    listing = _lock_listing(listing_id)
    if listing.status != ListingStatus.SOLD:
        return listing
    listing.status = ListingStatus.ACTIVE
    _clear_reservation(listing)
    listing.save(update_fields=["status", "reserved_by", "reserved_until", "reserved_at", "updated_at"])
    return listing


def _lock_own_listing(listing_id, seller) -> Listing:
    listing = _lock_listing(listing_id)
    if not _is_authenticated(seller) or listing.seller_id != seller.pk:
        raise ListingNotFound()  # a stranger learns nothing about someone else's listing
    return listing


class ListingChangedMeanwhile(Conflict):
    code = "listing_changed_meanwhile"
    message = "A buyer's checkout on this stub changed meanwhile. Please try again."


@dataclass(frozen=True)
class StaleCheckoutRule:
    """What makes a buyer's checkout stale, and how to close one, is the rule of the app that
    takes payments, which builds on this one: it registers both from its AppConfig.ready()
    (`stale_checkout_rule_register`), and the listing writes here apply them at the right moment.

    `cancel(listing_id=, now=)` closes the checkouts that no longer hold the listing (their
    PaymentIntents cancelled first; it may raise a DomainError when one cannot be); `exists(listing_id=,
    now=)` says whether one is left."""

    cancel: Callable[..., object]
    exists: Callable[..., bool]


_stale_checkout_rules: dict[str, StaleCheckoutRule] = {}


def stale_checkout_rule_register(*, name: str, cancel: Callable[..., object],
                                 exists: Callable[..., bool]) -> None:
    """Called from the payments app's ready(); registering the same name again replaces it."""
    _stale_checkout_rules[name] = StaleCheckoutRule(cancel=cancel, exists=exists)


def listing_terms_change_prepare(*, listing_id, seller, now, unchanged: Q | None = None) -> None:
    """Before a listing changes what a buyer would pay for (price, shipping, withdrawal): cancel
    at Stripe the PaymentIntents of orders that no longer hold it (a lapsed hold, a declined
    attempt), so none of them can take the money afterwards. Nothing to do when the listing is
    not the seller's (the locked step answers 404) or already matches `unchanged`. Stripe is
    called before the row lock is taken; `listing_terms_change_check` re-checks under it."""
    try:
        mine = Listing.objects.filter(pk=listing_id, seller_id=getattr(seller, "pk", None))
        if unchanged is not None:
            mine = mine.exclude(unchanged)
        if not mine.exists():
            return
    except (ValueError, TypeError):
        return
    for rule in _stale_checkout_rules.values():
        rule.cancel(listing_id=listing_id, now=now)


def listing_terms_change_check(*, listing: Listing, now) -> None:
    """Under the listing's lock: refuse the change if a stale checkout appeared meanwhile."""
    if any(rule.exists(listing_id=listing.pk, now=now) for rule in _stale_checkout_rules.values()):
        raise ListingChangedMeanwhile()


def listing_withdraw(*, listing_id: int, seller, now: datetime | None = None) -> Listing:
    """Take the listing off sale. Not while a buyer is paying for it, and never once sold.

    Lapsed checkouts' PaymentIntents are cancelled first, so a withdrawn stub cannot be paid
    for. Withdrawing an already withdrawn listing is a no-op (a double submit is harmless).
    """
    now = now or timezone.now()
    listing_terms_change_prepare(listing_id=listing_id, seller=seller, now=now)
    with transaction.atomic():
        return _listing_withdraw_locked(listing_id=listing_id, seller=seller, now=now)


def _listing_withdraw_locked(*, listing_id, seller, now) -> Listing:
    listing = _lock_own_listing(listing_id, seller)
    if listing.status == ListingStatus.WITHDRAWN:
        return listing
    if listing.status == ListingStatus.SOLD:
        raise ListingNotWithdrawable("This stub has been sold; it cannot be withdrawn.")
    if listing.reservation_is_live(now):
        raise ListingNotWithdrawable(
            "A buyer is paying for this stub right now. Try again once the reservation ends."
        )
    listing_terms_change_check(listing=listing, now=now)
    listing.status = ListingStatus.WITHDRAWN
    _clear_reservation(listing)
    listing.save(update_fields=["status", "reserved_by", "reserved_until", "reserved_at", "updated_at"])
    return listing


@transaction.atomic
def listing_relist(*, listing_id: int, seller) -> Listing:
    """The seller puts a withdrawn (or draft) listing back on sale."""
    listing = _lock_own_listing(listing_id, seller)
    if listing.status in (ListingStatus.WITHDRAWN, ListingStatus.DRAFT):
        listing.status = ListingStatus.ACTIVE
        _clear_reservation(listing)
        listing.save(update_fields=["status", "reserved_by", "reserved_until", "reserved_at", "updated_at"])
    elif listing.status == ListingStatus.SOLD:
        raise Conflict("This stub has been sold; it cannot be put back on sale.", code="listing_sold")
    return listing


STUB_FIELDS = (
    "event_name", "performer", "venue", "city", "event_date", "category", "condition", "description"
)


def _store_photo(stub: Stub, photo) -> None:
    """Check the photo's header and keep it as the new cover, processing until the photo task
    has published it re-encoded (upright, no metadata) with its thumbnail (no DB write here)."""
    stub_cover_replace(stub=stub, upload=photo)


@transaction.atomic
def listing_create(
    *, seller, price_cents: int, photos=(), status: str = ListingStatus.ACTIVE, **stub_fields
) -> Listing:
    """A seller lists a stub: the Stub row and its Listing, with its photos (the first the cover)
    through the photo page's own pipeline (marketplace.photos.stub_photos_add): all are checked
    before any file is written, and a refusal (ValidationError, TooManyPhotos) creates nothing."""
    if not _is_authenticated(seller) or not seller.is_seller:
        raise NotASeller()
    if status not in (ListingStatus.ACTIVE, ListingStatus.DRAFT):
        raise DomainError("A new listing is either a draft or on sale.", code="invalid_status")
    unknown = set(stub_fields) - set(STUB_FIELDS)
    if unknown:
        raise TypeError(f"unknown stub fields: {', '.join(sorted(unknown))}")
    _check_price(price_cents)
    stub = Stub(**stub_fields)
    stub.full_clean(exclude=["photo", "thumbnail"])  # before any file is written
    stub.save()
    listing = Listing.objects.create(seller=seller, stub=stub, price_cents=price_cents, status=status)
    if photos:
        stub_photos_add(listing_id=listing.pk, seller=seller, files=photos)
    return listing


class ListingBeingCreated(Conflict):
    code = "listing_being_created"
    message = "This listing is being created already: look at your dashboard in a moment."


LISTING_FORM_TOKEN_SECONDS = 24 * 3600
LISTING_FORM_WAIT_SECONDS = 5


def listing_create_once(*, token: str, seller, **create_kwargs) -> Listing:
    """listing_create for a form that may arrive twice (a double click on List it, a resend
    after a timeout): the same form token from the same seller makes one listing, and the
    second request gets that listing back. Without a token it is plain listing_create."""
    if not token:
        return listing_create(seller=seller, **create_kwargs)
    key = f"marketplace:listing-form:{getattr(seller, 'pk', None)}:{token[:64]}"
    # A double click: the first request is usually still storing the photos; its listing is
    # what this one should show, so wait for it a little rather than answer an error. When the
    # first fails (it frees the token), this one tries itself and gets the same form errors.
    deadline = time.monotonic() + LISTING_FORM_WAIT_SECONDS
    while not cache.add(key, 0, timeout=LISTING_FORM_TOKEN_SECONDS):
        listing_id = cache.get(key)
        if listing_id:
            return Listing.objects.get(pk=listing_id, seller=seller)
        if time.monotonic() >= deadline:
            raise ListingBeingCreated()
        time.sleep(0.2)
    try:
        listing = listing_create(seller=seller, **create_kwargs)
    except BaseException:
        cache.delete(key)  # nothing was created: the corrected form may use the token again
        raise
    cache.set(key, listing.pk, timeout=LISTING_FORM_TOKEN_SECONDS)
    return listing


def listing_update(
    *, listing_id: int, seller, price_cents: int | None = None, photo=None,
    now: datetime | None = None, **stub_fields
) -> Listing:
    """The owner edits the stub's facts, photo or price. The price is frozen while a buyer is
    paying (live reservation) and once sold, so the amount charged never differs from the page;
    before it changes, lapsed checkouts' PaymentIntents are cancelled (none can pay the old one)."""
    now = now or timezone.now()
    if isinstance(price_cents, int):
        listing_terms_change_prepare(
            listing_id=listing_id, seller=seller, now=now, unchanged=Q(price_cents=price_cents)
        )
    with transaction.atomic():
        return _listing_update_locked(
            listing_id=listing_id, seller=seller, price_cents=price_cents, photo=photo, now=now,
            **stub_fields,
        )


def _listing_update_locked(*, listing_id, seller, price_cents, photo, now, **stub_fields) -> Listing:
    listing = _lock_own_listing(listing_id, seller)
    unknown = set(stub_fields) - set(STUB_FIELDS)
    if unknown:
        raise TypeError(f"unknown stub fields: {', '.join(sorted(unknown))}")
    if price_cents is not None and price_cents != listing.price_cents:
        _check_price(price_cents)
        if listing.status == ListingStatus.SOLD or listing.reservation_is_live(now):
            raise PriceLocked()
        listing_terms_change_check(listing=listing, now=now)
        listing.price_cents = price_cents
        listing.save(update_fields=["price_cents", "updated_at"])
    stub = listing.stub
    # The edit form sends every fact: only a change is one.
    stub_fields = {name: value for name, value in stub_fields.items() if getattr(stub, name) != value}
    if stub_fields or photo:
        listing_content_change_check(listing=listing, now=now)
    for name, value in stub_fields.items():
        setattr(stub, name, value)
    if stub_fields:
        stub.full_clean(exclude=["photo", "thumbnail"])  # before any file is written
    if photo:
        old_photo, old_thumb, old_upload = stub.photo.name, stub.thumbnail.name, stub.photo_upload.name
        _store_photo(stub, photo)
        # Bulk demo rows share pictures: only delete files no other stub still shows.
        still_used = Stub.objects.exclude(pk=stub.pk).filter(photo=old_photo).exists() if old_photo else False
        gone = (old_upload,) if still_used else (old_photo, old_thumb, old_upload)
        transaction.on_commit(lambda: images.delete_files(stub.photo.storage, *gone))
    if stub_fields or photo:
        stub.save()
    return listing
