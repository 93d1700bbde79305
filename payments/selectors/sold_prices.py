"""What comparable stubs sold for: the sold-price history of listing pages and search results
(docs/architecture.md, "Sold-price history").

Comparable means, from the stub's own facts (matched without regard to case):
- a stub with a performer: stubs of the same performer from the same year (every date of a tour,
  the same event included);
- a stub without one (a film, a theatre run, a game typed with no performer): stubs of the same
  event, its name and date, whether or not their sellers typed a performer.

A sale is a COMPLETED order only (the buyer confirmed receipt): a paid or shipped order can
still be refunded or disputed, and a partially refunded one no longer cost what the listing
asked. Its price is the one the buyer paid for the stub (OrderSnapshot.price_cents, without
shipping), its date the day the payment went through (OrderSnapshot.taken_at). No buyer, order
id or time of day is read or kept, and a listing's own asking price is never a sale.

A snapshot says whether its order is completed (OrderSnapshot.completed_sale, which
payments.services.orders.order_transition keeps in step with the status under the order's lock),
so no order is read: one query per page (a UNION ALL of each group's), an index-only scan per
group of the partial covering indexes of the completed snapshots on lower(performer) or
lower(event_name) with the event's date (OrderSnapshot.Meta), and the answer is cached per group
under the group's version (marketplace.page_cache): an order that becomes completed, or stops
being so (refunded, disputed), moves its group's version on, which also retires the anonymous
pages that showed that history.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from functools import cached_property

from django.db import connection
from django.utils import timezone

from marketplace.listing_reads import listing_page_reads_register
from marketplace.page_cache import (
    DEPENDENCY_SECONDS,
    cache_get_many,
    cache_set_many,
    keys_changed,
    page_cache_seconds,
    page_shows_keys,
)
from payments.models import OrderSnapshot, OrderStatus, SoldPriceSummary

# The sales the chart and the list show, newest first.
RECENT_SALES = 8
# Well inside DEPENDENCY_SECONDS: a group's version may be evicted an hour after its last
# change, and then reads as "never changed"; a history filed before that change must be gone
# by then, or it would count as current again.
SOLD_PRICES_SECONDS = DEPENDENCY_SECONDS // 6


@dataclass(frozen=True)
class ComparableGroup:
    """Which sales compare with a stub; `performer` empty means the same-event rule."""

    performer: str = ""
    year: int | None = None
    event_name: str = ""
    event_date: datetime.date | None = None

    @cached_property
    def digest(self) -> str:
        """Worked out once per group object: a listing page names its keys ~7 times."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:24]

    @property
    def version_key(self) -> str:
        """The page cache's dependency key of this group's history."""
        return f"marketplace:v:sold-prices:{self.digest}"

    @property
    def cache_key(self) -> str:
        return f"payments:sold-prices:{self.digest}"

    @property
    def summary_key(self) -> str:
        """The key of the group's SoldPriceSummary row."""
        if self.performer:
            return f"performer:{self.year}:{self.performer}"
        return f"event:{self.event_date.isoformat()}:{self.event_name}"


@dataclass(frozen=True)
class Sale:
    day: datetime.date
    price_cents: int


@dataclass(frozen=True)
class SoldPrices:
    count: int
    lowest_cents: int | None = None
    median_cents: int | None = None
    highest_cents: int | None = None
    recent: tuple[Sale, ...] = ()  # newest first, at most RECENT_SALES


NO_SALES = SoldPrices(count=0)


def comparable_group(*, performer: str, event_name: str, event_date: datetime.date) -> ComparableGroup:
    """The group of a stub (or of an order's snapshot: the same fields)."""
    # Lowered as the query lowers the columns (forms strip what sellers type).
    if performer:
        return ComparableGroup(performer=performer.lower(), year=event_date.year)
    return event_group(event_name=event_name, event_date=event_date)


def event_group(*, event_name: str, event_date: datetime.date) -> ComparableGroup:
    return ComparableGroup(event_name=event_name.lower(), event_date=event_date)


def stub_comparable_group(stub) -> ComparableGroup:
    return comparable_group(performer=stub.performer, event_name=stub.event_name, event_date=stub.event_date)


def sale_groups(*, performer: str, event_name: str, event_date: datetime.date) -> set[ComparableGroup]:
    """The groups an order's sale counts in: its own, and its event's (a sale with a performer
    is also a sale of that event, for the stubs of it without one)."""
    return {
        comparable_group(performer=performer, event_name=event_name, event_date=event_date),
        event_group(event_name=event_name, event_date=event_date),
    }


# The one query of a group: its completed sales ranked by price and by date, keeping the rows at
# the middle of the price order (one for an odd count, two for an even one) and the newest
# RECENT_SALES, each with the group's count, lowest and highest. Written out rather than built
# with the ORM: building and compiling a browse page's 24 window querysets cost ~10 ms of Python
# per page, this costs microseconds. Portable SQL (SQLite and PostgreSQL alike).
_GROUP_SQL = """
SELECT %s AS group_index, price_cents, taken_at, sales, lowest, highest, by_price, by_date FROM (
  SELECT s.price_cents, s.taken_at,
    COUNT(*) OVER () AS sales, MIN(s.price_cents) OVER () AS lowest, MAX(s.price_cents) OVER () AS highest,
    ROW_NUMBER() OVER (ORDER BY s.price_cents, s.order_id) AS by_price,
    ROW_NUMBER() OVER (ORDER BY s.taken_at DESC, s.order_id DESC) AS by_date
  FROM {snapshots} s
  WHERE s.completed_sale AND {where}
) ranked WHERE by_date <= %s OR by_price = (sales + 1) / 2 OR by_price = sales / 2 + 1"""
_TABLES = {"snapshots": OrderSnapshot._meta.db_table}
# The same expressions as the snapshot's indexes (payments.models.OrderSnapshot.Meta).
_PERFORMER_SQL = _GROUP_SQL.format(
    where="lower(s.performer) = lower(%s) AND s.event_date >= %s AND s.event_date < %s", **_TABLES
)
_EVENT_SQL = _GROUP_SQL.format(where="lower(s.event_name) = lower(%s) AND s.event_date = %s", **_TABLES)
_COLUMNS = ("group_index", "price_cents", "taken_at", "sales", "lowest", "highest", "by_price", "by_date")


def sold_prices_sql(groups: list[ComparableGroup]) -> tuple[str, list]:
    """The query of `groups` (each group's, tagged with its place, in a UNION ALL) and its params."""
    date = connection.ops.adapt_datefield_value
    parts, params = [], []
    for index, group in enumerate(groups):
        if group.performer:
            parts.append(_PERFORMER_SQL)
            first, after = datetime.date(group.year, 1, 1), datetime.date(group.year + 1, 1, 1)
            params += [index, group.performer, date(first), date(after)]
        else:
            parts.append(_EVENT_SQL)
            params += [index, group.event_name, date(group.event_date)]
        params.append(RECENT_SALES)
    return " UNION ALL ".join(parts), params


def _aware(value) -> datetime.datetime:
    if isinstance(value, str):  # SQLite hands a raw cursor the stored text (UTC, USE_TZ)
        value = datetime.datetime.fromisoformat(value)
    return timezone.make_aware(value, datetime.UTC) if timezone.is_naive(value) else value


def sold_prices_count(groups: list[ComparableGroup]) -> dict[ComparableGroup, dict]:
    """Each group's figures counted from its completed sales, one query for all of `groups`, as
    the fields of its SoldPriceSummary (payments.services.sold_prices keeps those rows)."""
    if not groups:
        return {}
    sql, params = sold_prices_sql(groups)
    rows_of = {index: [] for index in range(len(groups))}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for values in cursor.fetchall():
            row = dict(zip(_COLUMNS, values, strict=True))
            rows_of[row["group_index"]].append(row)
    return {group: _summary_fields(rows_of[index]) for index, group in enumerate(groups)}


def _summary_fields(rows: list[dict]) -> dict:
    if not rows:
        return {"sales": 0, "lowest_cents": None, "median_cents": None, "highest_cents": None, "recent": []}
    count = rows[0]["sales"]
    middle = [row["price_cents"] for row in rows if row["by_price"] in ((count + 1) // 2, count // 2 + 1)]
    recent = sorted((row for row in rows if row["by_date"] <= RECENT_SALES), key=lambda row: row["by_date"])
    return {
        "sales": count,
        "lowest_cents": rows[0]["lowest"],
        # The mean of the two middle prices of an even count, rounded half up to whole cents.
        "median_cents": (sum(middle) * 2 + len(middle)) // (2 * len(middle)),
        "highest_cents": rows[0]["highest"],
        "recent": [[_aware(row["taken_at"]).isoformat(), row["price_cents"]] for row in recent],
    }


def _sold_prices_read(groups: list[ComparableGroup]) -> dict[ComparableGroup, SoldPrices]:
    """One query for all of `groups`: their summary rows by key (a group without one has no
    sales)."""
    if not groups:
        return {}
    summaries = SoldPriceSummary.objects.filter(key__in=[group.summary_key for group in groups]).values_list(
        "key", "sales", "lowest_cents", "median_cents", "highest_cents", "recent"
    )
    found = {key: values for key, *values in summaries}
    return {group: _sold_prices_of(found.get(group.summary_key)) for group in groups}


def _sold_prices_of(values) -> SoldPrices:
    if not values or not values[0]:
        return NO_SALES
    sales, lowest, median, highest, recent = values
    return SoldPrices(
        count=sales,
        lowest_cents=lowest,
        median_cents=median,
        highest_cents=highest,
        recent=tuple(
            Sale(day=timezone.localdate(datetime.datetime.fromisoformat(taken_at)), price_cents=price)
            for taken_at, price in recent
        ),
    )


def sold_prices_for_groups(*, groups, request=None) -> dict[ComparableGroup, SoldPrices]:
    """The history of each group: one cache round trip for all of them, and one query for
    those missing from the cache. With `request`, the page being rendered records each group's
    version, so an anonymous copy of it is not served after the history changed."""
    groups = list(dict.fromkeys(groups))
    if request is not None:
        page_shows_keys(request, keys=[group.version_key for group in groups])
    if not groups:
        return {}
    found = (
        cache_get_many([key for group in groups for key in (group.version_key, group.cache_key)])
        if page_cache_seconds()
        else None
    )
    if found is None:  # no page cache, or the cache cannot be reached
        return _sold_prices_read(groups)
    histories, versions = {}, {}
    for group in groups:
        versions[group] = found.get(group.version_key, 0)
        cached = found.get(group.cache_key)
        if cached is not None and cached[0] == versions[group]:
            histories[group] = cached[1]
    missing = _sold_prices_read([group for group in groups if group not in histories])
    if missing:
        # Filed under the versions read before the query: a sale completed meanwhile has moved
        # its group's version on (again after its commit), so such a copy will not count.
        cache_set_many(
            {group.cache_key: (versions[group], sold) for group, sold in missing.items()},
            SOLD_PRICES_SECONDS,
        )
    return {group: histories.get(group) or missing[group] for group in groups}


def stub_sold_prices(*, stub, request=None) -> SoldPrices:
    group = stub_comparable_group(stub)
    return sold_prices_for_groups(groups=[group], request=request)[group]


def _listing_page_reads(listing) -> list[str]:
    group = stub_comparable_group(listing.stub)
    return [group.version_key, group.cache_key]


# Every listing page shows its stub's sold-price history (listing_detail.html), read as
# sold_prices_for_groups reads it.
listing_page_reads_register(_listing_page_reads)


def sold_prices_changed(*, order, from_status: str, to_status: str, **_kwargs) -> None:
    """Receiver of payments.signals.order_status_changed: an order that becomes completed, or
    stops being so, changes its groups' history (counted again by order_transition)."""
    if OrderStatus.COMPLETED not in (from_status, to_status):
        return
    snapshot = (
        OrderSnapshot.objects.filter(order_id=order.pk).only("performer", "event_name", "event_date").first()
    )
    if snapshot is not None:
        groups = sale_groups(
            performer=snapshot.performer, event_name=snapshot.event_name, event_date=snapshot.event_date
        )
        keys_changed(keys=[group.version_key for group in groups])
