"""After the payment: the seller ships, the buyer confirms receipt.

Each move locks the order row and goes through `order_transition`, so a double click gets a
clear 409 the second time and never a second audit row.
"""

from django.db import transaction

from core.errors import Conflict
from marketplace.models import Listing, ListingStatus
from marketplace.services import listing_return_to_sale
from payments.models import Order, OrderStatus
from payments.services.audit import audit_record
from payments.services.notifications import notify_order_shipped
from payments.services.orders import order_transition
from payments.services.refunds import OrderNotFound, listing_sold_after
from payments.shipping import ShippingCarrier


class OrderAlreadyShipped(Conflict):
    code = "order_already_shipped"
    message = "This order has already been marked as shipped."


class OrderAlreadyCompleted(Conflict):
    code = "order_already_completed"
    message = "You have already confirmed receipt of this order."


class OrderNotShippable(Conflict):
    code = "order_not_shippable"


class OrderNotCompletable(Conflict):
    code = "order_not_completable"


class OrderNotRelistable(Conflict):
    code = "order_not_relistable"


class ListingAlreadyBackOnSale(Conflict):
    code = "listing_already_on_sale"
    message = "The stub is already back on sale."


def _lock_order_for(*, order_id, user, role: str) -> Order:
    """The order, locked, when `user` is its buyer or seller (`role`); otherwise 404, so a
    stranger learns nothing about other people's orders."""
    try:
        order = Order.objects.select_for_update().get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise OrderNotFound() from None
    if not getattr(user, "is_authenticated", False) or getattr(order, f"{role}_id") != user.pk:
        raise OrderNotFound()
    return order


def order_shipped_already(*, order: Order) -> bool:
    """Whether the seller has marked the order shipped (what a second click finds)."""
    return order.shipped_at is not None and order.status in (
        OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED,
    )


def order_shippable(*, order: Order) -> bool:
    """Whether the seller can mark the order shipped now: paid (or partially refunded) and not
    shipped yet. The rule of `order_ship`, and of the Ship buttons (payments.selectors.orders)."""
    return order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED) and not order_shipped_already(
        order=order
    )


def order_completed_already(*, order: Order) -> bool:
    """Whether the buyer has confirmed receipt (what a second click finds)."""
    return order.status == OrderStatus.COMPLETED or (
        order.status == OrderStatus.PARTIALLY_REFUNDED and order.completed_at is not None
    )


def order_completable(*, order: Order) -> bool:
    """Whether the buyer can confirm receipt now: shipped (also when partially refunded since)
    and not confirmed yet. The rule of `order_complete`, and of the Confirm receipt button."""
    shipped = order.status == OrderStatus.SHIPPED or (
        order.status == OrderStatus.PARTIALLY_REFUNDED and order.shipped_at is not None
    )
    return shipped and not order_completed_already(order=order)


@transaction.atomic
def order_ship(*, order_id, seller, tracking_number: str = "", carrier: str = "", request=None) -> Order:
    """The seller sends the stub: paid (or partially refunded, not yet shipped) → shipped, with
    the carrier (a ShippingCarrier value, or "" when not given) and the tracking number."""
    order = _lock_order_for(order_id=order_id, user=seller, role="seller")
    if order_shipped_already(order=order):
        raise OrderAlreadyShipped()
    if not order_shippable(order=order):
        raise OrderNotShippable(
            f"Only a paid order can be shipped; this one is {order.get_status_display().lower()}."
        )
    tracking_number = (tracking_number or "").strip()[:100]
    carrier = carrier if carrier in ShippingCarrier.values else ""
    order.tracking_number = tracking_number
    order.shipping_carrier = carrier
    order.save(update_fields=["tracking_number", "shipping_carrier", "updated_at"])
    carrier_label = f" by {ShippingCarrier(carrier).label}" if carrier else ""
    order_transition(
        order=order, to=OrderStatus.SHIPPED, actor=seller, request=request,
        message=f"Shipped{carrier_label}{f', tracking {tracking_number}' if tracking_number else ''}",
        data={"tracking_number": tracking_number, "shipping_carrier": carrier},
    )
    transaction.on_commit(lambda: notify_order_shipped(order=order))
    return order


@transaction.atomic
def order_complete(*, order_id, buyer, request=None) -> Order:
    """The buyer has the stub: shipped → completed."""
    order = _lock_order_for(order_id=order_id, user=buyer, role="buyer")
    if order_completed_already(order=order):
        raise OrderAlreadyCompleted()
    if not order_completable(order=order):
        raise OrderNotCompletable(
            "You can confirm receipt once the seller has shipped the order; "
            f"this one is {order.get_status_display().lower()}."
        )
    order_transition(order=order, to=OrderStatus.COMPLETED, actor=buyer, request=request,
                     message="Buyer confirmed receipt")
    return order


def order_relist_blocker(*, order: Order) -> str:
    """Why the seller cannot put a refunded order's stub back on sale ("" when they can).

    A full refund relists an unshipped stub by itself (payments.services.refunds); a shipped
    one is with the buyer, so it goes back on sale only when its seller says it came back.
    Reads `order.listing`, and the `refunds_waiting` / `sold_again` annotations when a list
    has them (payments.selectors.dashboard.dashboard_sales)."""
    if order.status != OrderStatus.REFUNDED:
        return "Only the stub of an order refunded in full can go back on sale."
    if order.refund_waiting:
        return "The refund is still pending at Stripe: put the stub back on sale once it has gone through."
    if order.listing.status != ListingStatus.SOLD:
        return "This stub is not held for this order any more."
    sold_again = order.__dict__.get("sold_again")
    if sold_again if sold_again is not None else listing_sold_after(order=order):
        return "This stub has been sold again since."
    return ""


@transaction.atomic
def order_relist(*, order_id, seller, request=None) -> Listing:
    """The stub of a shipped order refunded in full came back: its seller puts it back on sale."""
    order = _lock_order_for(order_id=order_id, user=seller, role="seller")
    listing = Listing.objects.select_for_update().get(pk=order.listing_id)
    order.listing = listing
    if order.status == OrderStatus.REFUNDED and listing.status == ListingStatus.ACTIVE:
        raise ListingAlreadyBackOnSale()  # a double click, or the refund relisted it itself
    why = order_relist_blocker(order=order)
    if why:
        raise OrderNotRelistable(why)
    listing = listing_return_to_sale(listing_id=listing.pk)
    audit_record(
        action="listing.relisted",
        actor=seller,
        order=order,
        request=request,
        message="The seller put the stub back on sale after the refund",
    )
    return listing
