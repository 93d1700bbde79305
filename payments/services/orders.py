"""Order state: the one function every status change goes through.

The caller holds the order row lock (`Order.objects.select_for_update()`) inside a
transaction; `order_transition` refuses moves the order lifecycle (docs/architecture.md, "Money
and state"; ALLOWED_TRANSITIONS below) does not allow and writes one AuditEvent per move, so
the trail shows who moved what, when, and why.
"""

from django.utils import timezone

from core.errors import Conflict
from payments.models import Order, OrderStatus
from payments.services.audit import audit_record
from payments.services.sold_prices import sold_prices_follow_order
from payments.signals import order_status_changed

S = OrderStatus

# A late success is honoured from payment_failed/cancelled when the listing is still free
# (the webhook handler decides); a won dispute returns to the status saved before it opened; a
# refund that fails puts a (partially) refunded order back where it was before the refund.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.PAYMENT_FAILED, S.CANCELLED}),
    S.PAYMENT_FAILED: frozenset({S.PAID, S.CANCELLED}),
    S.CANCELLED: frozenset({S.PAID}),
    S.PAID: frozenset({S.SHIPPED, S.REFUNDED, S.PARTIALLY_REFUNDED, S.DISPUTED}),
    S.SHIPPED: frozenset({S.COMPLETED, S.REFUNDED, S.PARTIALLY_REFUNDED, S.DISPUTED}),
    S.COMPLETED: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED, S.DISPUTED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PAID, S.SHIPPED, S.COMPLETED, S.REFUNDED, S.DISPUTED}),
    S.DISPUTED: frozenset({S.PAID, S.SHIPPED, S.COMPLETED, S.PARTIALLY_REFUNDED, S.REFUNDED, S.DISPUTE_LOST}),
    S.REFUNDED: frozenset({S.PAID, S.SHIPPED, S.COMPLETED, S.PARTIALLY_REFUNDED}),
    S.DISPUTE_LOST: frozenset(),
}

TIMESTAMP_FIELD = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.COMPLETED: "completed_at",
    S.PAYMENT_FAILED: "failed_at",
    S.CANCELLED: "cancelled_at",
    S.REFUNDED: "refunded_at",
    S.PARTIALLY_REFUNDED: "refunded_at",
    S.DISPUTED: "disputed_at",
}


class IllegalOrderTransition(Conflict):
    code = "illegal_order_transition"


def order_can_transition(*, order: Order, to: str) -> bool:
    return to in ALLOWED_TRANSITIONS[order.status]


def order_transition(
    *,
    order: Order,
    to: str,
    actor=None,
    stripe_event_id: str = "",
    request=None,
    message: str = "",
    data: dict | None = None,
    now=None,
) -> Order:
    """Move `order` (locked by the caller) to status `to`, stamp the time, audit it."""
    if not order_can_transition(order=order, to=to):
        raise IllegalOrderTransition(
            f"Order #{order.pk} cannot go from {order.get_status_display().lower()} "
            f"to {OrderStatus(to).label.lower()}."
        )
    from_status = order.status
    if to == S.DISPUTED:
        order.status_before_dispute = from_status
    order.status = to
    update_fields = ["status", "status_before_dispute", "updated_at"]
    stamp = TIMESTAMP_FIELD.get(to)
    if stamp:
        setattr(order, stamp, now or timezone.now())
        update_fields.append(stamp)
    order.save(update_fields=update_fields)
    if S.COMPLETED in (from_status, to):
        # A sale of the sold-price history, or no longer one: its snapshot is marked and its
        # groups counted again here, in the caller's transaction under the order's lock.
        sold_prices_follow_order(order=order, completed=to == S.COMPLETED)
    audit_record(
        action="order.transition",
        actor=actor,
        order=order,
        from_status=from_status,
        to_status=to,
        message=message,
        data=data,
        stripe_event_id=stripe_event_id,
        request=request,
    )
    order_status_changed.send(
        sender=Order, order=order, from_status=from_status, to_status=to,
        stripe_event_id=stripe_event_id, now=now,
    )
    return order
