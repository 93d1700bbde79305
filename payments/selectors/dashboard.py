"""Reads for the seller dashboard: a constant number of queries whatever the seller has."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from marketplace.models import Listing, ListingStatus
from payments.charts import DaySales, dollars, fill_days
from payments.models import SOLD_ORDER_STATUSES, Order, OrderStatus
from payments.selectors.orders import order_actions_for, with_refund_waiting

SALES_SHOWN = 50
CHART_DAYS = 30

# What the seller should do next, per order status.
NEXT_STEP = {
    OrderStatus.PENDING_PAYMENT: "Waiting for the buyer's payment.",
    OrderStatus.PAID: "Paid: ship the stub and add the tracking number.",
    OrderStatus.SHIPPED: "Shipped: waiting for the buyer to confirm receipt.",
    OrderStatus.COMPLETED: "Completed. Nothing to do.",
    OrderStatus.PAYMENT_FAILED: "The payment failed. Nothing to do.",
    OrderStatus.CANCELLED: "Cancelled: the buyer did not pay in time. Nothing to do.",
    OrderStatus.REFUNDED: "Refunded. Nothing to do.",
    OrderStatus.PARTIALLY_REFUNDED: "Partly refunded. Ship it if you have not yet.",
    OrderStatus.DISPUTED: (
        "The buyer disputed the payment: add your side on the order page before the deadline."
    ),
    OrderStatus.DISPUTE_LOST: "The dispute was lost; the money went back to the buyer.",
}

LISTING_STATUS_ORDER = [
    ListingStatus.ACTIVE,
    ListingStatus.RESERVED,
    ListingStatus.DRAFT,
    ListingStatus.SOLD,
    ListingStatus.WITHDRAWN,
]


@dataclass(frozen=True)
class ListingGroup:
    status: str
    label: str
    listings: list[Listing]


def dashboard_listings(*, seller) -> QuerySet[Listing]:
    return Listing.objects.filter(seller=seller).select_related("stub").order_by("-created_at")


def dashboard_listing_groups(*, seller) -> list[ListingGroup]:
    """The seller's listings grouped by status (active first), one query."""
    by_status: dict[str, list[Listing]] = {}
    for listing in dashboard_listings(seller=seller):
        by_status.setdefault(listing.status, []).append(listing)
    labels = dict(ListingStatus.choices)
    return [
        ListingGroup(status=status, label=labels[status], listings=by_status[status])
        for status in LISTING_STATUS_ORDER
        if by_status.get(status)
    ]


def dashboard_sales(*, seller, limit: int = SALES_SHOWN) -> list[Order]:
    """The seller's latest sales (Order.objects.placed: checkouts that took money) with what
    to do next (`order.next_step`), one query."""
    orders = list(
        with_refund_waiting(Order.objects.placed().filter(seller=seller))
        .annotate(sold_again=Exists(
            Order.objects.filter(listing=OuterRef("listing"), paid_at__gt=OuterRef("paid_at"))
        ))
        .select_related("listing__stub", "buyer")
        .order_by("-created_at")[:limit]
    )
    for order in orders:
        order.next_step = NEXT_STEP.get(order.status, "")
        # The Ship and Put it back on sale buttons, as on the order page.
        order.actions = order_actions_for(order=order, user=seller)
        if order.shows_refund_pending:
            order.next_step = "Refund pending at Stripe: it is sent once your Stripe balance can cover it."
        elif order.actions.can_relist:
            # A shipped stub refunded in full waits for its seller (payments.services.fulfilment).
            order.next_step = "Refunded in full. You shipped the stub: put it back on sale once you have it."
        order.amount_display = dollars(order.amount_cents)
        order.seller_receives_display = dollars(order.seller_receives_cents)
    return orders


def dashboard_sales_by_day(
    *, seller, now: datetime.datetime | None = None, days: int = CHART_DAYS
) -> list[DaySales]:
    """Amount sold per day (by payment date, local time) over the last `days` days, one query."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    start = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=days - 1), datetime.time())
    )
    rows = (
        Order.objects.placed().filter(seller=seller, status__in=SOLD_ORDER_STATUSES, paid_at__gte=start)
        .annotate(day=TruncDate("paid_at"))
        .values("day")
        .annotate(amount=Sum("amount_cents"), count=Count("id"))
        .order_by()
    )
    totals = {row["day"]: (row["amount"] or 0, row["count"]) for row in rows}
    return fill_days(totals=totals, last_day=today, days=days)
