"""Reads of sellers' reputation for the seller and listing pages: average, count, recent
feedback and stubs sold, in a fixed number of queries."""

from dataclasses import dataclass, field, replace
from decimal import Decimal

from marketplace.page_cache import (
    cache_set,
    page_cache_seconds,
    seller_key,
    seller_sales_key,
    versions,
)
from payments.models import SOLD_ORDER_STATUSES, Order
from ratings.models import Feedback, SellerRating

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
    """The seller's reputation, from the cache while nothing it shows has changed since.

    Three queries on a miss. Filed under the seller's own versions (marketplace.page_cache):
    `seller_key`, which every feedback about the seller and the seller's own saves move on, and
    `seller_sales_key`, which a listing of theirs saved sold moves on ("N stubs sold" follows a sale
    at once); kept PAGE_CACHE_SECONDS at most, the freshness of a cached page (an order change that
    touches no listing, such as a refund, shows within that time). A save elsewhere in the
    catalogue leaves it in place (the catalogue's one version did not: under a stream of edits
    nearly every listing page read it again).
    """
    seconds = page_cache_seconds()
    key = f"ratings:seller-reputation:{int(seller_id)}"
    depends = [seller_key(seller_id), seller_sales_key(seller_id)]
    # One round trip: the copy and the versions it must have been filed under.
    found = versions([*depends, key]) if seconds else None
    if found is None:  # no page cache, or the cache cannot be reached
        return _seller_reputation_read(seller_id=seller_id, recent=recent)
    current = [found[name] for name in depends]
    cached = found[key]
    if cached and cached[0] == current:
        reputation = cached[1]
    else:
        reputation = _seller_reputation_read(seller_id=seller_id, recent=RECENT_FEEDBACK)
        cache_set(key, (current, reputation), seconds)
    return replace(reputation, recent=reputation.recent[:recent])


def _seller_reputation_read(*, seller_id, recent: int) -> SellerReputation:
    """Three queries: the rating summary, the stubs sold, the latest visible feedback."""
    summary = SellerRating.objects.filter(seller_id=seller_id).first()
    sold = Order.objects.filter(seller_id=seller_id, status__in=SOLD_ORDER_STATUSES).count()
    latest = list(
        Feedback.objects.filter(seller_id=seller_id, hidden=False, excluded_reason="")
        .select_related("buyer", "order__listing__stub")
        # What a feedback item shows: the cache holds no more of the buyer than their name.
        .only(*FEEDBACK_ITEM_FIELDS)
        .order_by("-created_at", "-id")[:recent]
    )
    return SellerReputation(
        average=summary.average if summary and summary.count else None,
        count=summary.count if summary else 0,
        stubs_sold=sold,
        recent=latest,
    )


# templates/ratings/_feedback_item.html
FEEDBACK_ITEM_FIELDS = (
    "rating", "comment", "reply", "created_at", "hidden", "seller_id",
    "buyer__first_name", "buyer__username", "order__listing__stub__event_name",
)


def order_feedback(*, order) -> Feedback | None:
    return Feedback.objects.filter(order=order).first()
