"""Checkout: hold the listing for the buyer, open the order, then the PaymentIntent.

Two steps, in this order, because Stripe is never called while a row lock is held:

1. `checkout_order_open` — one transaction: lock the listing (`listing_reserve_in_transaction`
   does the `select_for_update` and the purchase checks after the lock), reserve it for
   LISTING_RESERVATION_MINUTES, and create the Order (or hand back the buyer's own pending
   order for this listing). The one-live-order-per-listing constraint backs the lock up.
2. `checkout_payment_intent` — after the commit: create the PaymentIntent on the seller's
   account (idempotency key from the order, so retries create nothing twice), or retrieve it
   when the order already has one. If Stripe fails, the order is cancelled and the listing
   released, and the PaymentProviderError reaches the buyer as a clear 502.

`checkout_start` runs both; the view calls it.
"""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import Conflict, DomainError, PaymentProviderError
from core.queue import enqueue_on_commit_or_run_here
from marketplace.pricing import application_fee_cents
from marketplace.services import ListingUnavailable, listing_release, listing_reserve_in_transaction
from payments import stripe_api
from payments.agreed_prices import listing_total_for
from payments.forms import SHIPPING_FIELDS
from payments.models import Order, OrderStatus
from payments.services.audit import audit_record
from payments.services.orders import order_transition

logger = logging.getLogger(__name__)

# The task that cancels a PaymentIntent at Stripe (payments.tasks), queued by name: the tasks
# module builds on this one. Queued after the commit; when the broker (Redis) cannot take it, it
# runs in the request instead (core.queue): the checkout has committed the buyer's order and
# hold by then, so it must answer with them, and a superseded PaymentIntent left payable is what
# the cancel is for.
PAYMENT_INTENT_CANCEL_TASK = "payments.tasks.payment_intent_cancel"

# PaymentIntent states in which the buyer can still pay with it.
PAYABLE_INTENT_STATUSES = {"requires_payment_method", "requires_confirmation", "requires_action"}


@dataclass(frozen=True)
class Checkout:
    order: Order
    client_secret: str
    created: bool  # False when the buyer's existing pending order was handed back
    intent_status: str = "requires_payment_method"

    def as_dict(self) -> dict:
        return {
            "order_id": self.order.pk,
            "client_secret": self.client_secret,
            # What the buyer pays; the platform's fee is between the seller and us.
            "amount": self.order.amount_cents,
            "currency": self.order.currency,
            "stripe_account": self.order.stripe_account_id,
            # "succeeded"/"processing": already paid, the page goes straight to the order
            "payment_intent_status": self.intent_status,
        }


@transaction.atomic
def checkout_order_open(*, listing_id, buyer, shipping: dict, now=None, request=None) -> tuple[Order, bool]:
    """Reserve the listing for `buyer` and open (or reuse) their pending order for it.

    PaymentIntents of orders this supersedes are cancelled after the commit by a task
    (payments.tasks.payment_intent_cancel, retried while Stripe does not answer).

    Returns (order, created). Raises ListingUnavailable (409) when the listing is sold,
    held by someone else, the buyer's own, or its seller cannot take payments;
    ListingNotFound (404) for an unknown listing.
    """
    now = now or timezone.now()
    # Locks the buyer's and the listing's rows first. No savepoint of its own: whatever it
    # refuses with ends this whole transaction.
    listing = listing_reserve_in_transaction(listing_id=listing_id, buyer=buyer, now=now)
    shipping = {name: shipping.get(name, "") for name in SHIPPING_FIELDS}

    # One locked read for the pending orders that matter (the one-live-order constraint leaves at
    # most one): the buyer's own, and other buyers' whose hold has lapsed (the release command
    # has not run yet). A live one of someone else's is not read: it means someone holds the
    # stub, whatever the listing row says, and the constraint below refuses this buyer.
    pending = list(
        Order.objects.select_for_update()
        .filter(listing=listing, status=OrderStatus.PENDING_PAYMENT)
        .filter(Q(buyer=buyer) | Q(reserved_until__lte=now))
        .order_by("pk")
    )
    mine = next((order for order in pending if order.buyer_id == buyer.pk), None)
    # The listing's price, or the price of an offer its seller accepted for this buyer.
    total_cents = listing_total_for(listing=listing, buyer_id=buyer.pk)
    if mine is not None and _order_matches_listing(mine, listing, total_cents=total_cents):
        # A reload, a second click or another card after a decline (the webhook leaves a
        # declined order open while the hold lasts): same order, same PaymentIntent; the hold
        # is extended.
        for name, value in shipping.items():
            setattr(mine, name, value)
        mine.reserved_until = listing.reserved_until
        mine.save(update_fields=[*SHIPPING_FIELDS, "reserved_until", "updated_at"])
        return mine, False
    if mine is not None:
        # Made for another price (or fee, or seller account) than the listing's now: that
        # PaymentIntent must never take the money. The order is superseded by a new one.
        order_transition(
            order=mine, to=OrderStatus.CANCELLED, request=request,
            message=f"Superseded: the listing now costs {total_cents} cents, "
                    f"this order was for {mine.amount_cents}.",
            data={"closed_because": "superseded"},
        )
        enqueue_on_commit_or_run_here(PAYMENT_INTENT_CANCEL_TASK, order_id=mine.pk)

    # Other buyers' lapsed pending orders would break the one-live-order constraint: they are
    # cancelled now, their PaymentIntents after commit.
    for stale in (order for order in pending if order.buyer_id != buyer.pk):
        order_transition(
            order=stale, to=OrderStatus.CANCELLED, request=request,
            message="Reservation lapsed; the stub was reserved by another buyer.",
            data={"closed_because": "lapsed"},
        )
        enqueue_on_commit_or_run_here(PAYMENT_INTENT_CANCEL_TASK, order_id=stale.pk)

    # This buyer's earlier attempt that failed (declined after its hold had lapsed): its
    # PaymentIntent is cancelled after commit, so only the new one can take the money.
    failed_attempts = Order.objects.filter(
        listing=listing, buyer=buyer, status=OrderStatus.PAYMENT_FAILED
    ).exclude(payment_intent_id="")
    for failed in failed_attempts:
        enqueue_on_commit_or_run_here(PAYMENT_INTENT_CANCEL_TASK, order_id=failed.pk)

    seller = listing.seller
    try:
        # No savepoint of its own: on an IntegrityError nothing more runs in this transaction,
        # the ListingUnavailable below rolls all of it back (two round trips fewer under the lock).
        order = Order.objects.create(
            buyer=buyer,
            seller=seller,
            listing=listing,
            amount_cents=total_cents,  # from the listing or an accepted offer, never from the client
            application_fee_cents=application_fee_cents(total_cents),
            shipping_cents=listing.shipping_cents,  # the part of the amount that is postage
            currency="usd",
            stripe_account_id=seller.stripe_account_id,
            reserved_until=listing.reserved_until,
            **shipping,
        )
    except IntegrityError:
        # The constraint caught what the lock should have: someone else holds a live order.
        raise ListingUnavailable(
            "Another buyer is paying for this stub right now. Try again in a few minutes.",
            reason="reserved",
        ) from None
    audit_record(
        action="order.created", actor=buyer, order=order, to_status=order.status, request=request,
        message=f"Checkout opened for listing #{listing.pk}",
        data={"listing_id": listing.pk, "amount_cents": order.amount_cents,
              "application_fee_cents": order.application_fee_cents},
    )
    return order, True


def _order_matches_listing(order: Order, listing, *, total_cents: int) -> bool:
    """Was `order` made for what the buyer pays now (amount, fee, the seller's account)?"""
    return (
        order.amount_cents == total_cents
        and order.application_fee_cents == application_fee_cents(total_cents)
        and order.stripe_account_id == listing.seller.stripe_account_id
    )


def payment_intent_cancel_unless_paid(*, order: Order, actor=None) -> str:
    """Cancel the order's PaymentIntent on the seller's account, unless the buyer has paid.

    Returns the PaymentIntent's status as Stripe last reported it ("" when there is none).
    A succeeded (or processing) PaymentIntent is left alone: the webhook handler decides what
    happens to a payment that arrives after the hold lapsed. Stripe errors are logged, not
    raised, so one unreachable account does not stop a sweep; the next run tries again.
    """
    if not order.payment_intent_id:
        return ""
    try:
        intent = stripe_api.payment_intent_retrieve(order=order, actor=actor)
        if intent.status not in PAYABLE_INTENT_STATUSES:
            return intent.status
        return stripe_api.payment_intent_cancel(order=order, actor=actor).status
    except DomainError:
        logger.warning("Could not cancel PaymentIntent %s of order %s", order.payment_intent_id, order.pk)
        return "unknown"


class PaymentBeingSettled(Conflict):
    code = "payment_being_settled"
    message = (
        "A buyer's payment for this stub is being settled right now. Try again in a minute."
    )


def _stale_orders(*, listing_id, now):
    """Orders of this listing whose PaymentIntent might still take money although they no
    longer hold the stub: pending with a lapsed hold, or failed (a declined PaymentIntent can
    be confirmed again with another card)."""
    return Order.objects.filter(listing_id=listing_id).filter(
        Q(status=OrderStatus.PENDING_PAYMENT, reserved_until__lte=now)
        | Q(status=OrderStatus.PAYMENT_FAILED) & ~Q(payment_intent_id="")
    )


def listing_has_stale_payments(*, listing_id, now=None) -> bool:
    """Checked under the listing's lock by the writes that change what a buyer pays for."""
    return _stale_orders(listing_id=listing_id, now=now or timezone.now()).exists()


def listing_stale_payments_cancel(*, listing_id, keep_buyer=None, now=None, request=None) -> int:
    """Before a listing changes (price, withdrawal, another buyer's hold): cancel at Stripe the
    PaymentIntent of every order that no longer holds it, then close those orders. Returns how
    many were closed.

    Stripe is called before any row lock. `keep_buyer`'s own pending order is left for the
    checkout to reuse or supersede. Raises PaymentBeingSettled when one of those PaymentIntents
    has already taken (or is taking) the money: the webhook decides that payment first. Raises
    PaymentProviderError when Stripe could not say: nothing changes until it can.
    """
    now = now or timezone.now()
    stale = _stale_orders(listing_id=listing_id, now=now)
    if keep_buyer is not None:
        stale = stale.exclude(buyer=keep_buyer, status=OrderStatus.PENDING_PAYMENT)
    closed = 0
    for order in stale.order_by("pk"):
        intent_status = payment_intent_cancel_unless_paid(order=order)
        if intent_status == "unknown":
            raise PaymentProviderError()
        if intent_status not in ("", "canceled"):
            raise PaymentBeingSettled()
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED):
                continue
            held_again = (locked.reserved_until or now) > now
            if locked.status == OrderStatus.PENDING_PAYMENT and held_again and not intent_status:
                continue  # the buyer came back meanwhile and holds it again (no PaymentIntent yet)
            was_pending = locked.status == OrderStatus.PENDING_PAYMENT
            order_transition(
                order=locked, to=OrderStatus.CANCELLED, request=request,
                message="Hold lapsed; its PaymentIntent was cancelled before the listing changed.",
                data={"payment_intent_status": intent_status, "closed_because": "lapsed"},
            )
            if was_pending:
                listing_release(listing_id=locked.listing_id, buyer=locked.buyer)
            closed += 1
    return closed


def checkout_abandon(*, order: Order, actor=None, request=None, message: str) -> None:
    """Stripe failed: cancel the pending order and free the listing (idempotent)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PENDING_PAYMENT:
            return
        order_transition(
            order=locked, to=OrderStatus.CANCELLED, actor=actor, request=request, message=message,
            data={"closed_because": "stripe_failed"},
        )
        listing_release(listing_id=locked.listing_id, buyer=locked.buyer)


def checkout_payment_intent(*, order: Order, actor=None, request=None):
    """The PaymentIntent of a pending order: created on the seller's account the first time,
    retrieved afterwards (for its client_secret). Stripe failing cancels the order."""
    if order.payment_intent_id:
        intent = stripe_api.payment_intent_retrieve(order=order, actor=actor)
        if intent.status in PAYABLE_INTENT_STATUSES or intent.status in ("processing", "succeeded"):
            return intent
        # Cancelled at Stripe behind our back: this order cannot be paid any more.
        checkout_abandon(order=order, actor=actor, request=request,
                         message=f"PaymentIntent {intent.status}; checkout closed.")
        raise ListingUnavailable("This checkout has expired. Please start again.", reason="expired")
    try:
        intent = stripe_api.payment_intent_create(order=order, actor=actor)
    except DomainError as exc:
        checkout_abandon(order=order, actor=actor, request=request,
                         message=f"Could not create the PaymentIntent: {exc.code}")
        raise
    # Stored only if the order has none yet (a parallel request of the same buyer may have
    # stored it first: with the same idempotency key it is the same PaymentIntent). One
    # conditional UPDATE instead of a locked read and a save: the row lock the UPDATE takes
    # makes the "none yet" check and the write one step.
    stored = Order.objects.filter(pk=order.pk, payment_intent_id="").update(
        payment_intent_id=intent.id, updated_at=timezone.now()
    )
    if stored:
        order.payment_intent_id = intent.id
    else:
        order.payment_intent_id = Order.objects.values_list("payment_intent_id", flat=True).get(pk=order.pk)
    return intent


def checkout_start(*, listing_id, buyer, shipping: dict, request=None) -> Checkout:
    """The whole checkout: open the order (one transaction), then the PaymentIntent."""
    if isinstance(listing_id, int) and getattr(buyer, "is_authenticated", False):
        # Earlier buyers' lapsed or failed PaymentIntents are cancelled before this buyer's
        # hold replaces theirs (an unknown listing is the reserve step's 404).
        listing_stale_payments_cancel(listing_id=listing_id, keep_buyer=buyer, request=request)
    order, created = checkout_order_open(
        listing_id=listing_id, buyer=buyer, shipping=shipping, request=request
    )
    intent = checkout_payment_intent(order=order, actor=buyer, request=request)
    return Checkout(
        order=order, client_secret=intent.client_secret, created=created, intent_status=intent.status
    )
