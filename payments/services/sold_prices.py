"""Keeping the sold-price history counted (docs/architecture.md, "Sold-price history").

A snapshot says whether its order is a completed sale (OrderSnapshot.completed_sale), and each
comparable group's figures are kept in a row of their own (SoldPriceSummary), counted again from
the group's completed snapshots whenever one of its sales completes or stops being completed. A
page then reads a row per group, whatever the group's size; the counting (an index-only scan of
the group's sales, payments.selectors.sold_prices.sold_prices_count) runs once per change.
"""

from django.db import transaction
from django.utils import timezone

from payments.models import OrderSnapshot, SoldPriceSummary
from payments.selectors.sold_prices import ComparableGroup, sale_groups, sold_prices_count

SUMMARY_FIELDS = ("sales", "lowest_cents", "median_cents", "highest_cents", "recent", "counted_at")
# Groups counted per query when every summary is counted again.
RECOUNT_BATCH = 200


def sold_prices_follow_order(*, order, completed: bool) -> None:
    """`order` (locked by the caller, payments.services.orders.order_transition) has just become
    completed (`completed`) or stopped being so: mark its snapshot and count its groups again, in
    the caller's transaction. An order without a snapshot (never paid) sold nothing."""
    snapshot = (
        OrderSnapshot.objects.filter(order_id=order.pk).only("performer", "event_name", "event_date").first()
    )
    if snapshot is None:
        return
    OrderSnapshot.objects.filter(order_id=order.pk).update(completed_sale=completed)
    sold_price_summaries_count(
        groups=sale_groups(
            performer=snapshot.performer, event_name=snapshot.event_name, event_date=snapshot.event_date
        )
    )


def sold_price_summaries_count(*, groups) -> None:
    """Count `groups` again from their completed snapshots, inside the caller's transaction.

    Each group's row is made if missing and locked, in key order (two sales of the same groups
    cannot deadlock), before the count: a sale of the group committed while this waited for the
    lock is in the count (PostgreSQL's READ COMMITTED reads afresh each statement), and a sale
    committed after waits for this transaction's lock and counts again itself."""
    groups = sorted(set(groups), key=lambda group: group.summary_key)
    keys = [group.summary_key for group in groups]
    # The caller's transaction (no savepoint); a transaction of its own when called outside one.
    with transaction.atomic(savepoint=False):
        rows = SoldPriceSummary.objects
        rows.bulk_create([SoldPriceSummary(key=key) for key in keys], ignore_conflicts=True)
        list(rows.select_for_update().filter(key__in=keys).order_by("key").values_list("key"))
        _summaries_save(sold_prices_count(groups), update=True)


def sold_price_summaries_recount() -> int:
    """Count every group with a completed sale again, from nothing (the data migration that made
    the summaries, and bench/sold_prices.py after it adds sales by SQL). Not locked: for a
    database nobody else writes to meanwhile. Returns the number of groups."""
    groups: set[ComparableGroup] = set()
    completed = OrderSnapshot.objects.filter(completed_sale=True)
    facts = completed.values_list("performer", "event_name", "event_date").distinct()
    for performer, event_name, event_date in facts.iterator(chunk_size=5000):
        groups |= sale_groups(performer=performer, event_name=event_name, event_date=event_date)
    SoldPriceSummary.objects.all().delete()
    ordered = sorted(groups, key=lambda group: group.summary_key)
    for first in range(0, len(ordered), RECOUNT_BATCH):
        _summaries_save(sold_prices_count(ordered[first : first + RECOUNT_BATCH]), update=False)
    return len(ordered)


def _summaries_save(counted: dict[ComparableGroup, dict], *, update: bool) -> None:
    now = timezone.now()
    rows = [
        SoldPriceSummary(key=group.summary_key, counted_at=now, **fields) for group, fields in counted.items()
    ]
    if update:
        SoldPriceSummary.objects.bulk_update(rows, fields=SUMMARY_FIELDS)
    else:
        SoldPriceSummary.objects.bulk_create(rows)
