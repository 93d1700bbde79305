"""Order reads shared by the order pages, the status route and the emails.

Every function returns rows with what the pages show already joined in, so a page costs the
same number of queries however many orders it lists. Only the order's buyer and seller can
read it: anyone else gets OrderNotFound (404), never a hint that it exists.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from payments.forms import SHIPPING_FIELDS
from payments.models import REFUND_WAITING_STATUSES, AuditEvent, Order, OrderStatus, Refund
from payments.order_words import timeline_event_prefixes
from payments.services.audit import FAILED_TRY_ACTION
from payments.services.fulfilment import (
    OrderNotFound,
    order_completable,
    order_relist_blocker,
    order_shippable,
)
from payments.services.refunds import order_paid_refundable

ORDER_RELATED = ("buyer", "seller", "listing__stub")


# An attempt that ended without money: a declined card, a failed 3-D Secure, a lapsed hold.
UNPAID_ENDINGS = (OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED)


def orders_bought(*, user) -> QuerySet[Order]:
    """The buyer's orders: only checkouts that took money (Order.objects.placed)."""
    qs = Order.objects.placed().filter(buyer=user).select_related(*ORDER_RELATED)
    return qs.order_by("-created_at", "-pk")


def orders_sold(*, user) -> QuerySet[Order]:
    """The seller's sales: the same rule as the buyer's orders."""
    qs = Order.objects.placed().filter(seller=user).select_related(*ORDER_RELATED)
    return qs.order_by("-created_at", "-pk")


def _is_unpaid_ending(order: Order) -> bool:
    return order.status in UNPAID_ENDINGS and order.paid_at is None


def order_attempts(*, order: Order) -> tuple[list[Order], Order | None]:
    """(the earlier unpaid attempts this order retried, oldest first; the order that retried
    this one, when it is itself a retried attempt). Two queries."""
    siblings = Order.objects.filter(buyer_id=order.buyer_id, listing_id=order.listing_id).only(
        "pk", "status", "paid_at", "created_at", "buyer_id", "listing_id"
    )
    earlier = []
    for other in siblings.filter(pk__lt=order.pk).order_by("-pk"):
        if not _is_unpaid_ending(other):
            break  # an earlier purchase of its own (paid, then refunded): not this one's attempt
        earlier.append(other)
    earlier.reverse()
    retried_by = None
    if _is_unpaid_ending(order):
        retried_by = siblings.filter(pk__gt=order.pk).order_by("pk").first()
    return earlier, retried_by


def last_shipping_address(*, user) -> Order | None:
    """The buyer's latest order, for its address only (prefills the checkout form)."""
    return Order.objects.filter(buyer=user).only(*SHIPPING_FIELDS).order_by("-created_at", "-pk").first()


def order_for_party(*, order_id, user, related: bool = True) -> Order:
    """The order when `user` is its buyer or seller; OrderNotFound otherwise."""
    if not getattr(user, "is_authenticated", False):
        raise OrderNotFound()
    qs = Order.objects.all()
    if related:
        qs = qs.select_related(*ORDER_RELATED, "payment")
    try:
        order = qs.get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise OrderNotFound() from None
    if user.pk not in (order.buyer_id, order.seller_id):
        raise OrderNotFound()
    return order


@dataclass(frozen=True)
class OrderActions:
    """The moves an order's page (and the seller's dashboard) offers one reader."""

    can_ship: bool
    can_complete: bool
    can_refund: bool
    can_relist: bool


def order_actions_for(*, order: Order, user) -> OrderActions:
    """What `user` may do to `order` now, by the services' own rules: its seller ships
    (fulfilment.order_shippable), refunds a paid order (refunds.order_paid_refundable) and puts
    the stub of a refunded order back on sale (fulfilment.order_relist_blocker); its buyer
    confirms receipt (fulfilment.order_completable); anyone else does nothing. Reads what
    `order_relist_blocker` reads, for the seller only: `order.listing`, and in a list the
    `refunds_waiting` / `sold_again` annotations."""
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    is_seller = user_id is not None and order.seller_id == user_id
    is_buyer = user_id is not None and order.buyer_id == user_id
    return OrderActions(
        can_ship=is_seller and order_shippable(order=order),
        can_complete=is_buyer and order_completable(order=order),
        can_refund=is_seller and order_paid_refundable(order=order),
        can_relist=is_seller and not order_relist_blocker(order=order),
    )


# Refund steps a buyer and seller read on the order page (payments/services/refunds.py writes
# them in plain words and dollars); Stripe API calls and internal steps stay in admin.
REFUND_TIMELINE_ACTIONS = ("refund.succeeded", "refund.pending", "refund.failed", "refund.canceled")


def order_timeline(*, order: Order, attempts: list[Order] = ()) -> list[AuditEvent]:
    """The order's status moves, oldest first, with who made them; with `attempts`, the moves
    of those earlier attempts too (each event's `order_id` tells which)."""
    actions = Q(action__in=("order.created", "order.transition", FAILED_TRY_ACTION)) | Q(
        action__in=REFUND_TIMELINE_ACTIONS
    )
    for prefix in timeline_event_prefixes():  # other apps' own steps (payments.order_words)
        actions |= Q(action__startswith=prefix)
    return list(
        AuditEvent.objects.filter(
            actions,
            order_id__in=[order.pk, *(attempt.pk for attempt in attempts)],
        )
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def with_refund_waiting(qs: QuerySet[Order]) -> QuerySet[Order]:
    """Orders with `refunds_waiting` (a refund not finished at Stripe), which `Order.status_label`
    reads so a list says "Refund pending" without a query per row."""
    waiting = Refund.objects.filter(order=OuterRef("pk"), status__in=REFUND_WAITING_STATUSES)
    return qs.annotate(refunds_waiting=Exists(waiting))
