"""Refunds, by staff (admin) or the order's seller (the refund route). One service for both.

The refund is created on the seller's account (a direct charge) with
`refund_application_fee=true`, so the platform gives back its fee in proportion. Our Order and
Payment rows change when Stripe's `charge.refunded` webhook arrives (payments/services/
payment_events.py), from the charge's own totals: the refund service only asks Stripe.

A double click must not refund twice: the idempotency key is derived from the order, the
amount and the refunds so far (measured as the amount Stripe had confirmed refunded, from the
last `charge.refunded`; it grows with every refund exactly as a count would), so two clicks
before Stripe has answered send the same key and Stripe returns the same refund. Once the
refund is recorded, a deliberate second refund of the same amount gets a new key.
"""

from dataclasses import dataclass

from django.db import transaction

from payments import stripe_api
from payments.models import Order, OrderStatus, Payment
from payments.services.audit import audit_record
from stubcollector.errors import Conflict, DomainError, NotFound

REFUNDABLE_STATUSES = (
    OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED,
)


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "No such order."


class OrderNotRefundable(Conflict):
    code = "order_not_refundable"
    message = "Only a paid order can be refunded."


class InvalidRefundAmount(DomainError):
    code = "invalid_amount"
    status = 400
    message = "The amount must be a whole number of cents, more than 0 and not above what is left to refund."


@dataclass(frozen=True)
class RefundResult:
    order: Order
    refund_id: str
    amount_cents: int
    status: str


def refund_amount_parse(value) -> int | None:
    """`None`/"" means "all that is left"; otherwise a positive whole number of cents."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidRefundAmount()
    if isinstance(value, int):
        amount = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        # isascii(): "²".isdigit() is True but int("²") raises.
        amount = int(value.strip())
    else:
        raise InvalidRefundAmount()
    if amount <= 0:
        raise InvalidRefundAmount()
    return amount


def user_can_refund(*, user, order: Order) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or order.seller_id == user.pk))


def refund_idempotency_key(*, order: Order, payment: Payment, amount_cents: int) -> str:
    """Same order, amount and refunds-so-far → same key. The PaymentIntent id keeps keys unique
    even if order ids repeat (a development database reset against a long-lived sandbox)."""
    return (
        f"order-{order.pk}-{payment.payment_intent_id}-refund-{amount_cents}"
        f"-after-{payment.amount_refunded_cents}"
    )


def order_refund(*, order_id: int, actor, amount_cents: int | None = None, request=None) -> RefundResult:
    """Refund `amount_cents` (default: everything left) of an order's payment on Stripe.

    Staff may refund any order, a seller only their own (anyone else learns nothing: 404).
    """
    with transaction.atomic():
        # Lock while checking, so two refunds of one order are judged one after the other.
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or not user_can_refund(user=actor, order=order):
            raise OrderNotFound()
        payment = Payment.objects.filter(order=order).first()
        if order.status not in REFUNDABLE_STATUSES or payment is None:
            raise OrderNotRefundable(
                f"Order #{order.pk} is {order.get_status_display().lower()}; "
                "only a paid order can be refunded."
            )
        remaining = payment.refundable_cents
        if remaining <= 0:
            raise OrderNotRefundable(f"Order #{order.pk} has already been refunded in full.")
        amount = remaining if amount_cents is None else amount_cents
        if amount <= 0 or amount > remaining:
            raise InvalidRefundAmount(
                f"The amount must be between 1 and {remaining} cents (what is left to refund)."
            )
        key = refund_idempotency_key(order=order, payment=payment, amount_cents=amount)
    # Stripe is called after the lock is released; the idempotency key covers the race.
    refund = stripe_api.refund_create(
        order=order, amount_cents=amount, idempotency_key=key, actor=actor, charge_id=payment.charge_id,
        reason="requested_by_customer",
    )
    audit_record(
        action="order.refund_requested", actor=actor, order=order, request=request,
        message=f"Refund of {amount} cents requested ({refund['id']})",
        data={"refund_id": refund["id"], "amount_cents": amount, "idempotency_key": key},
    )
    return RefundResult(order=order, refund_id=refund["id"], amount_cents=int(refund["amount"]),
                        status=refund.get("status") or "")
