"""What Stripe's payment events do to our orders.

Every handler works the same way, which is what makes them safe to run twice, concurrently
or out of order:

1. Re-read from Stripe what the event is about (the PaymentIntent with its latest charge, the
   application fee's refunded amount, the dispute), before taking any lock. The event's own
   copy may be stale; Stripe's current object is the truth.
2. Lock the order row, then bring the order and its Payment in line with that truth: the
   success is honoured once (creating the Payment), refunded amounts are *set* from the charge
   (never added, never lowered), a dispute's state comes from the dispute's status. Whatever
   is already so is left alone.

So a `charge.refunded` that arrives before `payment_intent.succeeded` records the success and
the refund together, and the late success event then finds nothing to do; a dispute closed
before its `created` event ends where the right order would.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from marketplace.models import Listing, ListingStatus
from marketplace.services import listing_mark_sold, listing_release
from payments import stripe_api
from payments.agreed_prices import listing_total_for
from payments.models import (
    LIVE_ORDER_STATUSES,
    AuditEvent,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
)
from payments.services.audit import FAILED_TRY_ACTION, audit_record
from payments.services.notifications import notify_late_payment_refunded, notify_order_paid
from payments.services.orders import order_transition
from payments.services.refunds import refunds_apply
from payments.services.snapshots import order_snapshot_take
from payments.stripe_api import object_id, plain

logger = logging.getLogger(__name__)

S = OrderStatus

NOT_YET_PAID = (S.PENDING_PAYMENT, S.PAYMENT_FAILED, S.CANCELLED)


@dataclass
class PaymentFacts:
    """Stripe's current view of one payment, read before any row is locked."""

    stripe_account: str
    payment_intent: dict
    charge: dict | None
    fee_refunded_cents: int | None  # None: not read (nothing refunded yet)
    refunds: list[dict] | None = None  # every refund of the payment; None: not read (none known)


def event_account(event) -> str:
    """The connected account an event came from ("" for the platform's own events)."""
    return object_id((event.stripe_data or {}).get("account"))


def payment_facts_fetch(*, payment_intent_id: str, stripe_account: str) -> PaymentFacts:
    payment_intent = plain(
        stripe_api.payment_intent_fetch(payment_intent_id=payment_intent_id, stripe_account=stripe_account)
    )
    charge = payment_intent.get("latest_charge")
    charge = charge if isinstance(charge, dict) else None
    fee_refunded = None
    if charge and charge.get("amount_refunded") and charge.get("application_fee"):
        fee = charge["application_fee"]
        if not isinstance(fee, dict):
            fee = plain(stripe_api.application_fee_fetch(fee_id=fee))
        fee_refunded = int(fee.get("amount_refunded") or 0)
    refunds = None
    if charge and (charge.get("amount_refunded") or Refund.objects.filter(
            order__payment_intent_id=payment_intent_id).exists()):
        # A failed refund no longer counts in amount_refunded: our rows say there is one to read.
        refunds = [plain(refund) for refund in stripe_api.refund_list(
            payment_intent_id=payment_intent_id, stripe_account=stripe_account)]
    return PaymentFacts(stripe_account, payment_intent, charge, fee_refunded, refunds)


def three_d_secure_authenticated(charge: dict | None) -> bool:
    """Did 3-D Secure authenticate the cardholder (which moves fraud liability to the issuer)?"""
    card = ((charge or {}).get("payment_method_details") or {}).get("card") or {}
    result = (card.get("three_d_secure") or {}).get("result")
    return result in ("authenticated", "attempt_acknowledged")


def _lock_order(*, facts: PaymentFacts) -> Order | None:
    """Our order for this PaymentIntent, locked; None when it is not ours to change."""
    payment_intent = facts.payment_intent
    orders = Order.objects.select_for_update()
    order = orders.filter(payment_intent_id=payment_intent["id"]).first()
    linked_by_metadata = False
    if order is None:
        # Checkout stores the PaymentIntent id right after creating it; until then the
        # metadata links them (once the checks below pass).
        order_id = str((payment_intent.get("metadata") or {}).get("order_id") or "")
        if order_id.isdigit():
            order = orders.filter(pk=int(order_id), payment_intent_id="").first()
            linked_by_metadata = order is not None
    if order is None:
        logger.info("No order for PaymentIntent %s; event ignored", payment_intent["id"])
        return None
    if order.stripe_account_id != facts.stripe_account:
        # Only the seller's own account can pay for the seller's order.
        logger.warning("PaymentIntent %s came from %s, order #%s belongs to %s; ignored",
                       payment_intent["id"], facts.stripe_account or "the platform", order.pk,
                       order.stripe_account_id)
        return None
    if payment_intent.get("amount") != order.amount_cents or payment_intent.get("currency") != order.currency:
        # Checkout never sends another amount: this needs a person, not an automatic move.
        logger.error("PaymentIntent %s is for %s %s, order #%s for %s %s; ignored", payment_intent["id"],
                     payment_intent.get("amount"), payment_intent.get("currency"), order.pk,
                     order.amount_cents, order.currency)
        audit_record(
            action="stripe.payment_intent_mismatch", order=order,
            message=f"PaymentIntent {payment_intent['id']} is for {payment_intent.get('amount')} "
                    f"{payment_intent.get('currency')}; the order is for {order.amount_cents} "
                    f"{order.currency}.",
            data={"payment_intent": payment_intent["id"], "status": payment_intent.get("status")},
        )
        return None
    if linked_by_metadata:
        order.payment_intent_id = payment_intent["id"]
        order.save(update_fields=["payment_intent_id", "updated_at"])
    return order


def _listing_free_for(order: Order) -> bool:
    """Is `order` (still) the listing's live one, on the terms it was made for? Nobody else
    holds or bought the stub, it is not withdrawn, and it costs what the order was made for."""
    listing = Listing.objects.select_for_update().get(pk=order.listing_id)
    others = Order.objects.filter(listing_id=order.listing_id, status__in=LIVE_ORDER_STATUSES)
    others = others.exclude(pk=order.pk)
    if others.exists():
        return False
    if listing_total_for(listing=listing, buyer_id=order.buyer_id) != order.amount_cents:
        return False  # repriced since (or an accepted offer's hold ended): never a stale price
    if listing.status == ListingStatus.ACTIVE:
        return True
    if listing.status == ListingStatus.RESERVED:
        return not listing.reservation_is_live() or listing.reserved_by_id == order.buyer_id
    return False


def _honour(*, order: Order, event_id: str) -> None:
    late = order.status != S.PENDING_PAYMENT
    listing_mark_sold(listing_id=order.listing_id, buyer=order.buyer)
    order_snapshot_take(order=order)  # under the listing's lock: what the buyer paid for
    order_transition(
        order=order, to=S.PAID, stripe_event_id=event_id,
        message="Payment succeeded"
        + (" after the order had lapsed; the stub was still free" if late else ""),
    )
    transaction.on_commit(lambda: notify_order_paid(order=order))


def _refund_late_payment(*, order: Order, payment: Payment, facts: PaymentFacts, event_id: str) -> None:
    """The payment succeeded after the order lapsed and the stub went elsewhere: give it back.

    The refund is created here, inside the webhook's transaction, on purpose: if it fails the
    event fails and Stripe retries it; if our commit fails after it, the retry reuses the
    idempotency key and Stripe returns the same refund. Money is never kept or refunded twice.
    """
    charge = facts.charge or {}
    already_refunded = int(charge.get("amount_refunded") or 0)
    remaining = payment.amount_cents - already_refunded
    if charge.get("disputed") or remaining <= 0:
        # Stripe refuses to refund a disputed charge (and there may be nothing left): staff decide.
        audit_record(
            action="order.late_payment_not_refunded", order=order, stripe_event_id=event_id,
            message="Payment arrived after the order had lapsed and the stub had gone, but it "
                    + ("is disputed; handle it in the dispute." if charge.get("disputed")
                       else "was already refunded."),
        )
        return
    refund = stripe_api.refund_create(
        order=order, amount_cents=remaining, charge_id=payment.charge_id,
        idempotency_key=f"order-{order.pk}-{payment.payment_intent_id}-late-payment-refund",
    )
    refunds_apply(order=order, stripe_refunds=[plain(refund)], event_id=event_id)
    audit_record(
        action="order.late_payment_refunded", order=order, stripe_event_id=event_id,
        message=f"Payment arrived after the order was {order.get_status_display().lower()} and the "
                f"stub had gone; refunded in full ({refund['id']}).",
        data={"refund_id": refund["id"], "amount_cents": int(refund["amount"])},
    )
    transaction.on_commit(lambda: notify_late_payment_refunded(order=order))


def _apply_charge(*, order: Order, payment: Payment, facts: PaymentFacts, event_id: str) -> None:
    """Copy the charge's figures onto the Payment; its refunds (our Refund rows, the refunded
    total and the order's status) follow Stripe's list of them (payments/services/refunds.py)."""
    charge = facts.charge or {}
    before = (payment.charge_id, payment.three_d_secure_authenticated, payment.stripe_status)
    if charge.get("id"):
        payment.charge_id = charge["id"]
        payment.three_d_secure_authenticated = three_d_secure_authenticated(charge)
    payment.stripe_status = facts.payment_intent.get("status", "")
    if (payment.charge_id, payment.three_d_secure_authenticated, payment.stripe_status) != before:
        payment.save(
            update_fields=["charge_id", "three_d_secure_authenticated", "stripe_status", "updated_at"]
        )
    if facts.refunds is not None:
        refunds_apply(order=order, stripe_refunds=facts.refunds, event_id=event_id,
                      fee_refunded_cents=facts.fee_refunded_cents)


def _apply_success(*, order: Order, facts: PaymentFacts, event_id: str) -> Payment:
    payment_intent, charge = facts.payment_intent, facts.charge or {}
    payment = Payment.objects.select_for_update().filter(order=order).first()
    if payment is None:
        # The first time we learn the money arrived: this is where it is honoured or refunded.
        payment = Payment.objects.create(
            order=order,
            stripe_account_id=facts.stripe_account,
            payment_intent_id=payment_intent["id"],
            charge_id=charge.get("id") or "",
            amount_cents=payment_intent["amount"],
            application_fee_cents=payment_intent.get("application_fee_amount") or 0,
            currency=payment_intent["currency"],
            status=PaymentStatus.SUCCEEDED,
            stripe_status=payment_intent["status"],
            three_d_secure_authenticated=three_d_secure_authenticated(charge),
        )
        # Pending or not, a success is honoured only for the listing's live order at its
        # current price; anything else (withdrawn, repriced, gone to another buyer) is refunded.
        if order.status in NOT_YET_PAID and _listing_free_for(order):
            _honour(order=order, event_id=event_id)
        elif order.status in NOT_YET_PAID:
            if order.status == S.PENDING_PAYMENT:
                _release(order=order, to=S.CANCELLED, event_id=event_id,
                         message="Paid, but no longer the listing's live order; refunding it.",
                         data={"closed_because": "paid_too_late"})
            _refund_late_payment(order=order, payment=payment, facts=facts, event_id=event_id)
    _apply_charge(order=order, payment=payment, facts=facts, event_id=event_id)
    return payment


def _release(*, order: Order, to: str, event_id: str, message: str, data: dict | None = None) -> None:
    order_transition(order=order, to=to, stripe_event_id=event_id, message=message, data=data)
    listing_release(listing_id=order.listing_id, buyer=order.buyer)


def payment_intent_apply(*, order: Order, facts: PaymentFacts, event_id: str) -> Payment | None:
    """Bring a locked order in line with its PaymentIntent's current status."""
    payment_intent = facts.payment_intent
    status = payment_intent.get("status")
    if status == "succeeded":
        return _apply_success(order=order, facts=facts, event_id=event_id)
    if status == "canceled":
        if order.status in (S.PENDING_PAYMENT, S.PAYMENT_FAILED):
            reason = payment_intent.get("cancellation_reason") or "no reason given"
            _release(order=order, to=S.CANCELLED, event_id=event_id, message=f"Payment cancelled ({reason})",
                     data={"closed_because": "payment_cancelled"})
    elif status == "requires_payment_method" and payment_intent.get("last_payment_error"):
        if order.status == S.PENDING_PAYMENT:
            error = payment_intent["last_payment_error"]
            reason = error.get("decline_code") or error.get("code") or "declined"
            if order.reserved_until is not None and order.reserved_until > timezone.now():
                _record_failed_try(order=order, event_id=event_id, reason=reason)
            else:
                _release(order=order, to=S.PAYMENT_FAILED, event_id=event_id,
                         message=f"Payment failed: {reason}", data={"reason": reason})
    return None


def _record_failed_try(*, order: Order, event_id: str, reason: str) -> None:
    """A declined card (or failed 3-D Secure) while the buyer still holds the stub: the order
    stays open, because Stripe lets the same PaymentIntent be confirmed again with another card
    (it is back in requires_payment_method; https://docs.stripe.com/payments/paymentintents/lifecycle).
    The retry is the same purchase, with the same order number. The try is counted and audited
    once per event; the hold lapsing still ends the order (payments/services/reservations.py)."""
    tries = AuditEvent.objects.filter(order=order, action=FAILED_TRY_ACTION)
    if event_id and tries.filter(stripe_event_id=event_id).exists():
        return  # this event was applied already
    order.payment_failures += 1
    order.save(update_fields=["payment_failures", "updated_at"])
    audit_record(
        action=FAILED_TRY_ACTION, order=order, stripe_event_id=event_id,
        from_status=order.status, to_status=order.status,
        message=f"Payment failed: {reason}", data={"reason": reason},
    )


def payment_event_sync(*, event, payment_intent_id: str, then=None) -> None:
    """Re-read a payment from Stripe and bring its order in line; `then(order=, payment=)` runs
    in the same transaction for the callers that add their own part (disputes, fraud warnings)."""
    if not payment_intent_id:
        return
    facts = payment_facts_fetch(payment_intent_id=payment_intent_id, stripe_account=event_account(event))
    with transaction.atomic():
        order = _lock_order(facts=facts)
        if order is None:
            return
        payment = payment_intent_apply(order=order, facts=facts, event_id=event.id)
        if then is not None and payment is not None:
            then(order=order, payment=payment)


# -- handlers (see HANDLERS in payments/services/webhooks.py) --------------------------------------

def payment_intent_event_apply(*, event) -> None:
    """payment_intent.succeeded / payment_failed / canceled."""
    payment_event_sync(event=event, payment_intent_id=object_id(event.data.get("object")))


def charge_refunded_apply(*, event) -> None:
    """charge.refunded, charge.refund.updated, refund.created / updated / failed: the payment's
    refunds and the fee's refunded amount, as they are now."""
    refunded = event.data.get("object") or {}
    payment_event_sync(event=event, payment_intent_id=object_id(refunded.get("payment_intent")))

