"""Order reads shared by the order pages, the status route and the emails.

Every function returns rows with what the pages show already joined in, so a page costs the
same number of queries however many orders it lists. Only the order's buyer and seller can
read it: anyone else gets OrderNotFound (404), never a hint that it exists.
"""

from django.db.models import QuerySet

from payments.forms import SHIPPING_FIELDS
from payments.models import AuditEvent, Order
from payments.services.fulfilment import OrderNotFound

ORDER_RELATED = ("buyer", "seller", "listing__stub")


def orders_bought(*, user) -> QuerySet[Order]:
    return Order.objects.filter(buyer=user).select_related(*ORDER_RELATED).order_by("-created_at", "-pk")


def orders_sold(*, user) -> QuerySet[Order]:
    return Order.objects.filter(seller=user).select_related(*ORDER_RELATED).order_by("-created_at", "-pk")


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


def order_timeline(*, order: Order) -> list[AuditEvent]:
    """The order's status moves, oldest first, with who made them."""
    return list(
        AuditEvent.objects.filter(order=order, action__in=("order.created", "order.transition"))
        .select_related("actor")
        .order_by("created_at", "pk")
    )
