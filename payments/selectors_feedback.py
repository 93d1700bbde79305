"""Reads of sellers' reputation for the seller and listing pages: average, count, recent
feedback and stubs sold, in a fixed number of queries."""

from dataclasses import dataclass, field
from decimal import Decimal

from payments.models import Feedback, Order, OrderStatus, SellerRating

# Orders that are a sale: paid for and not given back (refunded or lost in a dispute).
SOLD_STATUSES = (
    OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED,
    OrderStatus.DISPUTED,
)
RECENT_FEEDBACK = 5


@dataclass
class SellerReputation:
    average: Decimal | None
    count: int
    stubs_sold: int
    recent: list = field(default_factory=list)

    @property
    def stars(self) -> int:
        """The average rounded to whole stars, for the star row."""
        return int((self.average or 0) + Decimal("0.5"))


def seller_reputation(*, seller_id, recent: int = RECENT_FEEDBACK) -> SellerReputation:
    """Three queries: the rating summary, the stubs sold, the latest visible feedback."""
    summary = SellerRating.objects.filter(seller_id=seller_id).first()
    sold = Order.objects.filter(seller_id=seller_id, status__in=SOLD_STATUSES).count()
    latest = list(
        Feedback.objects.filter(seller_id=seller_id, hidden=False)
        .select_related("buyer", "order__listing__stub")
        .order_by("-created_at", "-id")[:recent]
    )
    return SellerReputation(
        average=summary.average if summary and summary.count else None,
        count=summary.count if summary else 0,
        stubs_sold=sold,
        recent=latest,
    )


def order_feedback(*, order) -> Feedback | None:
    return Feedback.objects.filter(order=order).first()
