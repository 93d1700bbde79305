"""Reads of sellers' reputation for the seller and listing pages: average, count, recent
feedback and stubs sold, in a fixed number of queries."""

from dataclasses import dataclass, field, replace
from decimal import Decimal

from marketplace.page_cache import (
    VERSION_KEY,
    cache_get_many,
    cache_set,
    catalogue_version,
    page_cache_seconds,
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
    """The seller's reputation, from the cache when the catalogue has not changed since.

    Three queries on a miss (a third of a listing page's cost when it is not page-cached, e.g.
    for every logged-in visitor). Valid under the page cache's catalogue version, which every
    feedback, listing and seller save moves on, and kept PAGE_CACHE_SECONDS at most: the same
    freshness as a cached page (a sale moves the listing, so "N stubs sold" follows at once; an
    order change that touches no listing, such as a refund, shows within PAGE_CACHE_SECONDS).
    """
    seconds = page_cache_seconds()
    key = f"payments:seller-reputation:{int(seller_id)}"
    # One round trip, as for a cached page: the copy counts only if read under the current version.
    found = cache_get_many([VERSION_KEY, key]) if seconds else None
    version = None if found is None else found.get(VERSION_KEY) or catalogue_version()
    if version is None:  # no page cache, or the cache cannot be reached
        return _seller_reputation_read(seller_id=seller_id, recent=recent)
    cached = found.get(key)
    if cached is not None and cached[0] == version:
        reputation = cached[1]
    else:
        reputation = _seller_reputation_read(seller_id=seller_id, recent=RECENT_FEEDBACK)
        cache_set(key, (version, reputation), seconds)
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
