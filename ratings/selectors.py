"""Reads of sellers' reputation for the seller and listing pages: average, count, recent
feedback and stubs sold, in a fixed number of queries."""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache

from django.db import connection

from marketplace.listing_reads import listing_page_reads_register
from marketplace.page_cache import (
    DEPENDENCY_SECONDS,
    cache_set,
    keys_changed,
    page_cache_seconds,
    seller_key,
    seller_sales_key,
    versions,
)
from payments.models import SOLD_ORDER_STATUSES, Order
from ratings.models import Feedback, SellerRating

RECENT_FEEDBACK = 5
# How long a seller's reputation copy is kept. Everything it counts moves the seller's versions on
# at once (seller_reputation's docstring), so its life only bounds what is shown without being
# counted: a buyer who renames themselves, or the event name of a sold listing's stub edited, in
# the feedback shown. Shorter than DEPENDENCY_SECONDS, as every copy filed under versions must be
# (a version that has expired reads as "never changed" again).
REPUTATION_SECONDS = 600
assert REPUTATION_SECONDS < DEPENDENCY_SECONDS


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

    One query on a miss (two for a seller with feedback). Filed under the seller's own versions
    (marketplace.page_cache):
    `seller_key`, which every feedback about the seller (left, answered, hidden, shown, left out
    of the average after a refund: each a save of the feedback, and its SellerRating recounted in
    the same transaction) and the seller's own saves move on, and `seller_sales_key`, which a
    listing of theirs saved sold and every change of an order of theirs (paid, refunded, disputed,
    ...: reputation_follow_order_status) move on, so "N stubs sold" and the stars follow at once.
    Kept REPUTATION_SECONDS when the page cache is on (PAGE_CACHE_SECONDS; off, it is read every
    time). A save elsewhere in the catalogue leaves it in place (the catalogue's one version did
    not: under a stream of edits nearly every listing page read it again).
    """
    seconds = REPUTATION_SECONDS if page_cache_seconds() else 0
    *depends, key = reputation_keys(seller_id)
    # One round trip (none on a listing page, which reads them ahead): the copy and the versions
    # it must have been filed under.
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


def reputation_keys(seller_id) -> list[str]:
    """The versions the seller's reputation copy is filed under, then the copy's key."""
    return [seller_key(seller_id), seller_sales_key(seller_id), f"ratings:seller-reputation:{int(seller_id)}"]


# Every listing page shows its seller's reputation (listing_detail.html).
listing_page_reads_register(lambda listing: reputation_keys(listing.seller_id))


def reputation_follow_order_status(sender, *, order, **kwargs) -> None:
    """Receiver of payments.signals.order_status_changed (connected in ratings.apps; every order's
    status changes in payments.services.orders.order_transition): the seller's "stubs sold" counts
    their orders by status, and a refund or a dispute changes it without saving any listing, so
    the seller's reputation copy no longer counts."""
    keys_changed(keys=[seller_sales_key(order.seller_id)])


def _seller_reputation_read(*, seller_id, recent: int) -> SellerReputation:
    """The rating summary with the stubs sold in one statement (_SUMMARY_SQL), then the latest
    visible feedback, unless the summary counts none: it counts exactly those rows
    (services.seller_rating_refresh). A seller without feedback, most of them, costs one query
    (~0.5 ms of CPU) instead of three (~3 ms, mostly the ORM building the feedback query)."""
    with connection.cursor() as cursor:
        cursor.execute(_summary_sql(connection.vendor), [seller_id, seller_id, seller_id, *_SOLD])
        count, average, sold = cursor.fetchone()
    count = count or 0
    latest = []
    if count:
        latest = list(
            Feedback.objects.filter(seller_id=seller_id, hidden=False, excluded_reason="")
            .select_related("buyer", "order__listing__stub")
            # What a feedback item shows: the cache holds no more of the buyer than their name.
            .only(*FEEDBACK_ITEM_FIELDS)
            .order_by("-created_at", "-id")[:recent]
        )
    return SellerReputation(
        # As the ORM reads the column (SQLite hands a raw cursor a float): two decimal places.
        average=Decimal(str(average)).quantize(AVERAGE_PLACES) if count else None,
        count=count,
        stubs_sold=sold,
        recent=latest,
    )


AVERAGE_PLACES = Decimal("0.01")
_SOLD = [str(status) for status in SOLD_ORDER_STATUSES]


@lru_cache(maxsize=4)
def _summary_sql(_vendor: str) -> str:
    """The seller's rating count and average (SellerRating; none without a row) and their orders
    counted as sold, in one statement; params: the seller three times, then SOLD_ORDER_STATUSES."""
    quote = connection.ops.quote_name
    rating, order = SellerRating._meta, Order._meta
    summary = f"FROM {quote(rating.db_table)} WHERE {quote(rating.get_field('seller').column)} = %s"
    statuses = ", ".join(["%s"] * len(SOLD_ORDER_STATUSES))
    return (
        f"SELECT (SELECT {quote(rating.get_field('count').column)} {summary}),"
        f" (SELECT {quote(rating.get_field('average').column)} {summary}),"
        f" (SELECT COUNT(*) FROM {quote(order.db_table)} WHERE {quote(order.get_field('seller').column)} = %s"
        f" AND {quote(order.get_field('status').column)} IN ({statuses}))"
    )


# templates/ratings/_feedback_item.html
FEEDBACK_ITEM_FIELDS = (
    "rating", "comment", "reply", "created_at", "hidden", "seller_id",
    "buyer__first_name", "buyer__username", "order__listing__stub__event_name",
)


def order_feedback(*, order) -> Feedback | None:
    return Feedback.objects.filter(order=order).first()
