"""Reads shared by the marketplace pages and the JSON API, each in a constant number of queries."""

import difflib
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from weakref import WeakKeyDictionary

from django.contrib.auth import get_user_model
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import Col, RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.errors import NotFound
from core.ids import MAX_ID
from marketplace.models import Listing, ListingStatus, Stub, seller_can_accept_payments_q

SORT_ORDERINGS = {
    "newest": ("-created_at", "-id"),
    "price_asc": ("price_cents", "id"),
    "price_desc": ("-price_cents", "-id"),
    "event_date": ("stub__event_date", "id"),
    # Best-rated sellers first (unrated last), newest first among equals. Numbered
    # pages only: it has no SORT_KEYS entry, so listing_page offers no keyset cursor for it.
    "seller_rating": (
        F("seller__rating_summary__average").desc(nulls_last=True), "-created_at", "-id",
    ),
}
DEFAULT_SORT = "newest"

SEARCH_CONFIG = "english"
# The GIN index over the search document of every listing that can be on sale (migration 0008,
# PostgreSQL only): the document is the stub's event, performer, venue and city.
SEARCH_INDEX_NAME = "listing_onsale_search_gin"


@dataclass(frozen=True)
class ListingFilters:
    q: str = ""
    category: str = ""
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT
    min_rating: Decimal | None = None  # sellers rated at least this (and rated at all)

    @property
    def ordering(self) -> tuple[str, ...]:
        return SORT_ORDERINGS.get(self.sort, SORT_ORDERINGS[DEFAULT_SORT])


def _listing_base() -> QuerySet[Listing]:
    return Listing.objects.select_related("stub", "seller")


# Text search on PostgreSQL: the listings whose own search document (migration 0008) matches,
# found through its GIN index. The order of a search is spelled coalesce(key, key), which no sort
# index matches, so PostgreSQL takes the matches first and then sorts them: allowed to walk the
# sort's index instead, it tested every row it passed until 24 matched, and when the matches sit
# at the far end of that order (at 1M listings every "rock" stub is a comedy stub priced from
# $46) a page took seconds, and a word that matches nothing read every listing on sale. Matches
# first, then the order: the cost follows the number of matches.
_SEARCH_SQL = f"marketplace_listing.search_document @@ websearch_to_tsquery('{SEARCH_CONFIG}', %s)"


class _SearchKey(Coalesce):
    """coalesce(key, key): a text search's sort key, by which listing_page knows a text search."""


def _search_ordering(ordering: tuple) -> tuple:
    keys = []
    for key in ordering:
        if isinstance(key, str):
            name = key.lstrip("-")
            wrapped = _SearchKey(F(name), F(name))
            key = wrapped.desc() if key.startswith("-") else wrapped.asc()
        keys.append(key)
    return tuple(keys)


def _apply_text_search(qs: QuerySet[Listing], text: str) -> QuerySet[Listing]:
    if connection.vendor == "postgresql":
        return qs.filter(RawSQL(_SEARCH_SQL, [text], output_field=BooleanField()))
    words = text.split()
    for word in words[:8]:  # SQLite fallback: every word somewhere in the four fields
        qs = qs.filter(
            Q(stub__event_name__icontains=word)
            | Q(stub__performer__icontains=word)
            | Q(stub__venue__icontains=word)
            | Q(stub__city__icontains=word)
        )
    return qs


def listing_filter(qs: QuerySet[Listing], filters: ListingFilters) -> QuerySet[Listing]:
    if filters.q:
        qs = _apply_text_search(qs, filters.q)
    if filters.category:
        qs = qs.filter(stub__category=filters.category)
    if filters.min_price_cents is not None:
        qs = qs.filter(price_cents__gte=filters.min_price_cents)
    if filters.max_price_cents is not None:
        qs = qs.filter(price_cents__lte=filters.max_price_cents)
    if filters.date_from is not None:
        qs = qs.filter(stub__event_date__gte=filters.date_from)
    if filters.date_to is not None:
        qs = qs.filter(stub__event_date__lte=filters.date_to)
    if filters.min_rating is not None:
        rated = {"seller__rating_summary__count__gt": 0}
        qs = qs.filter(**rated, seller__rating_summary__average__gte=filters.min_rating)
    if filters.q and connection.vendor == "postgresql":
        return qs.order_by(*_search_ordering(filters.ordering))
    return qs.order_by(*filters.ordering)


def payable_seller_ids() -> list[int]:
    """Sellers whose Stripe account can take a payment now: a short list, read first.

    Listing.objects.purchasable_now() says the same with a subquery, but PostgreSQL cannot
    estimate that subquery (it guessed 1 seller of 40 at 100k listings) and then joins and sorts
    every listing of every payable seller to show 24 (0.9 s). Given the ids as a literal list it
    estimates well and walks the sort's index, stopping after one page.
    """
    sellers = get_user_model().objects.filter(seller_can_accept_payments_q(prefix=""))
    return list(sellers.values_list("pk", flat=True))


def listing_search(*, filters: ListingFilters, now: datetime | None = None) -> QuerySet[Listing]:
    """What the browse page and /api/listings/ show: listings someone can buy now, filtered.

    The same rows as Listing.objects.purchasable_now() (one query here for the seller ids).
    """
    qs = _listing_base().available_now(now).filter(seller_id__in=payable_seller_ids())
    return listing_filter(qs, filters)


# "Did you mean": when a text search finds nothing, the catalogue's closest spelling of a
# performer, event or venue on sale.
SUGGESTION_FIELDS = ("performer", "event_name", "venue")
SUGGESTION_MIN_LENGTH = 3
SUGGESTION_MAX_LENGTH = 100
# SQLite (development, `make run`) has no trigram index: difflib compares at most this many values.
SUGGESTION_PYTHON_SCAN = 2000


def search_suggestion(*, text: str) -> str | None:
    """The performer, event or venue of a stub on sale spelled most like `text`, or None when
    nothing is close or the closest is what was typed.

    PostgreSQL: pg_trgm's word similarity through the trigram indexes of migration 0011, so the
    cost follows the near matches, not the size of the catalogue.
    """
    text = " ".join(text.split())[:SUGGESTION_MAX_LENGTH]
    if len(text) < SUGGESTION_MIN_LENGTH:
        return None
    on_sale = Stub.objects.filter(listings__status=ListingStatus.ACTIVE)
    if connection.vendor == "postgresql":
        best = None
        for name in SUGGESTION_FIELDS:
            row = (on_sale.filter(**{f"{name}__trigram_word_similar": text})
                   .annotate(score=TrigramWordSimilarity(text, name))
                   .order_by("-score", name).values_list(name, "score").first())
            if row and (best is None or row[1] > best[1]):
                best = row
        suggestion = best[0] if best else None
    else:
        spellings = {}
        for name in SUGGESTION_FIELDS:
            values = on_sale.exclude(**{name: ""}).values_list(name, flat=True).distinct()
            spellings.update((value.casefold(), value) for value in values[:SUGGESTION_PYTHON_SCAN])
        close = difflib.get_close_matches(text.casefold(), spellings, n=1, cutoff=0.75)
        suggestion = spellings[close[0]] if close else None
    if suggestion is None or suggestion.casefold() == text.casefold():
        return None
    return suggestion


# Paging without an exact COUNT(*) over every purchasable listing (35 ms at 100k, growing with
# the table) and without deep OFFSETs: page numbers reach COUNT_CAP listings (a capped count
# reads at most COUNT_CAP + 1 index entries: "1,000+ stubs"); past that, and from the last
# numbered page on, "Next" carries a keyset cursor (`after=`): the sort key and id of the last
# listing shown, so any page deep in the results costs what the first one costs. A `page=`
# beyond the numbered pages shows the last numbered one, as Django's get_page does for any
# page past the end.
COUNT_CAP = 1000

# The sort key of each ordering as (lookup, descending); `id` breaks ties in the same direction.
SORT_KEYS = {
    "newest": ("created_at", True),
    "price_asc": ("price_cents", False),
    "price_desc": ("price_cents", True),
    "event_date": ("stub__event_date", False),
}
_CURSOR = re.compile(r"(-?\d{1,20})_(\d{1,19})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _key_to_int(value) -> int:
    if isinstance(value, datetime):
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, date):
        return value.toordinal()
    return int(value)


def _int_to_key(lookup: str, number: int):
    if lookup == "created_at":
        seconds, micros = divmod(number, 1_000_000)
        return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=micros)
    if lookup == "stub__event_date":
        return date.fromordinal(number)
    return number


def listing_page_cursor(*, listing: Listing, sort: str) -> str:
    """The `after=` value of the page that follows `listing` in `sort` order."""
    lookup, _ = SORT_KEYS.get(sort, SORT_KEYS[DEFAULT_SORT])
    value = listing.stub.event_date if lookup == "stub__event_date" else getattr(listing, lookup)
    return f"{_key_to_int(value)}_{listing.pk}"


def listing_cursor_is_valid(*, cursor: str, sort: str) -> bool:
    """Whether `after=` is a cursor listing_page_cursor could have made for `sort`."""
    return _after_cursor(Listing.objects.none(), sort=sort, cursor=cursor) is not None


def _after_cursor(qs: QuerySet[Listing], *, sort: str, cursor: str) -> QuerySet[Listing] | None:
    """Listings after the cursor's one in `sort` order; None for a cursor we did not make."""
    match = _CURSOR.fullmatch(cursor or "")
    if not match:
        return None
    lookup, descending = SORT_KEYS.get(sort, SORT_KEYS[DEFAULT_SORT])
    try:
        key, pk = _int_to_key(lookup, int(match[1])), int(match[2])
    except (ValueError, OverflowError, OSError):  # a year past 9999, a timestamp the OS refuses
        return None
    if pk > MAX_ID:
        return None
    strictly, or_equal = ("lt", "lte") if descending else ("gt", "gte")
    # (key, id) beyond (k, pk), spelled so that `key <= k` is an index condition: the scan starts
    # at the cursor instead of filtering its way there from the first row.
    return qs.filter(Q(**{f"{lookup}__{or_equal}": key}))\
        .filter(Q(**{f"{lookup}__{strictly}": key}) | Q(**{f"id__{strictly}": pk}))


@dataclass
class ListingPage:
    """One page of listings, numbered (`page=`) or after a cursor (`after=`)."""

    listings: list
    number: int | None  # None on a cursor page
    num_pages: int  # numbered pages; more may follow through `next_cursor`
    count: int | None  # capped at COUNT_CAP; None on a cursor page (not counted)
    count_capped: bool = False
    next_number: int | None = None
    next_cursor: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def object_list(self) -> list:  # the name Django's Page uses
        return self.listings

    @property
    def has_previous(self) -> bool:
        return bool(self.number and self.number > 1)

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.has_previous else None

    @property
    def has_next(self) -> bool:
        return bool(self.next_number or self.next_cursor)

    @property
    def count_label(self) -> str:
        """"523" or, past the cap, "1,000+"."""
        return f"{self.count or 0:,}{'+' if self.count_capped else ''}"

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous or self.number is None


def _page_number(raw) -> int:
    """get_page's leniency: `abc`, `0`, `-3` and `²` are page 1."""
    raw = str(raw or "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 10 and int(raw) > 0 else 1


# A text search's page (docs/performance.md, "Text search at a million"). Sorting every match to
# show 24 made its cost follow its matches: "rock" is in 15k of the ~600k listings on sale at 1M.
# Instead the capped count reads the sort key and id of up to COUNT_CAP + 1 matches (its sample):
# - At most COUNT_CAP matches (a rare word): the sample is every match; sorted here exactly as
#   SQL would, by key and id, and the page's rows are loaded by id.
# - More (a common word), by a key of the listing itself (SEARCH_RANGE_SORTS): the page is asked
#   for within a range at the start of the sort order, where PostgreSQL ANDs the GIN index's
#   matches with the range from the sort key's index and reads and sorts only the matches in
#   it. A range is a prefix of the order, so when it holds the rows wanted they are the page.
#   First the range up to the SEARCH_RANGE_PER_ROW * (rows wanted)-th listing on sale (read from
#   the sort's partial index alone), which holds the page when the matches are spread through
#   the order (by newest); else the range up to the (rows wanted)-th best key of the sample,
#   which holds the page by construction, narrow when the matches sit together (a word's stubs
#   share an event and its price range: "rock" costs $35 and up).
# - More, by event date (the stub's): every match is sorted, as before.
SEARCH_RANGE_SORTS = ("newest", "price_asc", "price_desc")
SEARCH_RANGE_PER_ROW = 200
# The condition of the partial sort indexes (migration 0007): what can be on sale.
ON_SALE_STATUSES = (ListingStatus.ACTIVE, ListingStatus.RESERVED)


def _is_text_search(qs: QuerySet[Listing]) -> bool:
    return any(isinstance(getattr(key, "expression", None), _SearchKey) for key in qs.query.order_by)


def _sort_key_filters(qs: QuerySet[Listing], column: str) -> list[tuple[str, object]]:
    """The conditions of `qs` on the sort key's own column (a price range, a cursor's key) as
    (lookup, value), so that a range of the on-sale index starts where the page's rows can.

    Read from the query's top-level conditions: listing_page is handed the queryset alone
    (browse, the API). A condition missed here only makes a range hold fewer matches."""
    return [
        (child.lookup_name, child.rhs)
        for child in qs.query.where.children
        if isinstance(getattr(child, "lhs", None), Col) and child.lhs.target.column == column
        and child.lookup_name in ("gt", "gte", "lt", "lte")
    ]


def _loaded(ids: list[int]) -> list[Listing]:
    loaded = _listing_base().in_bulk(ids)
    return [loaded[pk] for pk in ids if pk in loaded]


def _rows(qs: QuerySet[Listing], *, start: int, stop: int) -> list[Listing]:
    if not start:
        return list(qs[:stop])
    # Skip rows by id alone, then load the page's rows with their stub and seller: OFFSET over
    # the joined rows fetched every skipped row's stub and seller (30 ms at page 42).
    return _loaded(list(qs.values_list("pk", flat=True)[start:stop]))


def _search_ids(qs: QuerySet[Listing], *, start: int, stop: int) -> list[int]:
    # The ids alone, loaded with their stub and seller afterwards (_loaded): asked for the rows,
    # the planner may join every match with its stub before sorting (at 10k, a hash join over
    # every stub: most of a common word's 16 ms).
    return list(qs.values_list("pk", flat=True)[start:stop])


def _search_sample(qs: QuerySet[Listing], *, sort: str) -> list[tuple]:
    """(sort key, id) of up to COUNT_CAP + 1 matches of the text search `qs`, in no order."""
    return list(qs.order_by().values_list(SORT_KEYS[sort][0], "pk")[: COUNT_CAP + 1])


def _search_rows(qs: QuerySet[Listing], *, sort: str, start: int, stop: int, sample=None) -> list[Listing]:
    """Rows [start:stop] of the text search `qs` in `sort` order (a SORT_KEYS one), as the
    comment above says. `sample`: its _search_sample, when the capped count has read it."""
    lookup, descending = SORT_KEYS[sort]
    up_to = f"{lookup}__{'gte' if descending else 'lte'}"
    if sample is None or len(sample) > COUNT_CAP:
        if sort in SEARCH_RANGE_SORTS:
            on_sale = Listing.objects.filter(status__in=ON_SALE_STATUSES).order_by(*SORT_ORDERINGS[sort])
            for name, value in _sort_key_filters(qs, Listing._meta.get_field(lookup).column):
                on_sale = on_sale.filter(**{f"{lookup}__{name}": value})
            within = SEARCH_RANGE_PER_ROW * stop
            edge = list(on_sale.values_list(lookup, flat=True)[within : within + 1])
            if edge:  # else the range would reach the end of the order
                in_range = qs.filter(**{up_to: edge[0]}).order_by(*SORT_ORDERINGS[sort])
                ids = _search_ids(in_range, start=start, stop=stop)
                if len(ids) == stop - start:
                    return _loaded(ids)
        if sample is None:
            sample = _search_sample(qs, sort=sort)
    ranked = sorted(sample, reverse=descending)  # (key, id): the order SORT_ORDERINGS gives
    if len(ranked) <= COUNT_CAP:
        return _loaded([pk for _key, pk in ranked[start:stop]])
    if sort not in SEARCH_RANGE_SORTS or len(ranked) < stop:
        return _loaded(_search_ids(qs, start=start, stop=stop))
    return _loaded(_search_ids(qs.filter(**{up_to: ranked[stop - 1][0]}), start=start, stop=stop))


def listing_page(qs: QuerySet[Listing], *, sort: str, per_page: int, page=None, after=None) -> ListingPage:
    """A page of `qs` (ordered by `sort`) in two queries: capped count and rows, or rows alone.
    A text search (PostgreSQL) may take two or three more (_search_rows)."""
    search = _is_text_search(qs) and sort in SORT_KEYS
    cursor_qs = _after_cursor(qs, sort=sort, cursor=after) if after else None
    if cursor_qs is not None:
        if search:
            rows = _search_rows(cursor_qs, sort=sort, start=0, stop=per_page + 1)
        else:
            rows = list(cursor_qs[: per_page + 1])
        listings = rows[:per_page]
        next_cursor = listing_page_cursor(listing=listings[-1], sort=sort) if len(rows) > per_page else None
        return ListingPage(listings=listings, number=None, num_pages=0, count=None, next_cursor=next_cursor)
    if search:
        sample = _search_sample(qs, sort=sort)
        count = len(sample)
    else:
        count = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    capped = count > COUNT_CAP
    num_pages = max(1, math.ceil(min(count, COUNT_CAP) / per_page))
    number = num_pages if page == "last" else min(_page_number(page), num_pages)
    start = (number - 1) * per_page
    if search:
        rows = _search_rows(qs, sort=sort, start=start, stop=start + per_page + 1, sample=sample)
    else:
        rows = _rows(qs, start=start, stop=start + per_page + 1)
    listings = rows[:per_page]
    page_obj = ListingPage(listings=listings, number=number, num_pages=num_pages, count=min(count, COUNT_CAP),
                           count_capped=capped)
    if number < num_pages:
        page_obj.next_number = number + 1
    elif len(rows) > per_page and sort in SORT_KEYS:
        page_obj.next_cursor = listing_page_cursor(listing=listings[-1], sort=sort)
    return page_obj


def listing_visible_to(*, listing_id, viewer) -> Listing:
    """One listing for its detail page. Drafts and withdrawn listings exist only for their owner."""
    try:
        listing = _listing_base().get(pk=int(listing_id))
    except (Listing.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such listing.", code="listing_not_found") from None
    return _shown_to(listing, viewer)


def _shown_to(listing: Listing, viewer) -> Listing:
    hidden = listing.status in (ListingStatus.DRAFT, ListingStatus.WITHDRAWN)
    is_owner = bool(viewer is not None and viewer.is_authenticated and viewer.pk == listing.seller_id)
    if hidden and not is_owner:
        raise NotFound("No such listing.", code="listing_not_found")
    return listing


def listing_get_public(*, listing_id) -> Listing:
    """A listing anyone may see through the API (not drafts, not withdrawn)."""
    return listing_visible_to(listing_id=listing_id, viewer=None)


def seller_get_public(*, username: str):
    """A seller's public face; unknown users and non-sellers are 404."""
    # No username holds NUL, and PostgreSQL refuses it in a query (DataError, a 500).
    sellers = get_user_model().objects.filter(username=username, is_seller=True, is_active=True)
    user = None if "\x00" in username else sellers.first()
    if user is None:
        raise NotFound("No such seller.", code="seller_not_found")
    return user


# What the listing page reads of its listing, stub and seller: the page, its purchase panel and offer
# box (also drawn later from the shared copy's pickled listing, marketplace.personal), the gallery's
# cover, the sold-price history's group, "More from this seller" (which gets this seller row) and
# payments' can_accept_payments. Not the seller's password, e-mail or Stripe requirement lists: a
# field left out here is read with a query of its own when touched (Django's deferred fields), which
# the listing page's query-count tests would show.
LISTING_PAGE_FIELDS = (
    ("listing", ("id", "seller_id", "stub_id", "price_cents", "shipping_cents", "status", "reserved_by_id",
                 "reserved_until", "reserved_at", "offers_enabled", "offer_minimum_cents", "created_at")),
    ("stub", ("id", "event_name", "performer", "venue", "city", "event_date", "category", "condition",
              "description", "photo", "thumbnail", "photo_state", "photo_upload")),
    ("seller", (
        "id", "username", "first_name", "last_name", "is_active", "is_seller", "stripe_account_id",
        "stripe_account_status", "stripe_onboarding_completed", "stripe_capabilities_enabled",
        "stripe_requirements_past_due", "stripe_disconnected_at", "stripe_balance_cents",
    )),
)


@cache
def _listing_page_query(vendor: str) -> tuple[str, tuple]:
    """The listing page's one query, written once per process (the ORM built it again on every
    request, ~4 ms of CPU, far more than PostgreSQL spent answering it): the listing with its stub,
    its seller and whether the stub has photos besides the cover (`has_more_photos`); and for each
    model, its fields in the order of the SELECT (the order of the model's fields, as from_db
    wants them) and the table they come from."""
    quote = connection.ops.quote_name
    models = {"listing": Listing, "stub": Stub, "seller": Listing.seller.field.related_model}
    tables = {"listing": Listing._meta.db_table, "stub": Stub._meta.db_table, "seller": "seller"}
    plan, columns = [], []
    for name, names in LISTING_PAGE_FIELDS:
        model, table = models[name], tables[name]
        fields = [field_ for field_ in model._meta.concrete_fields if field_.attname in names]
        assert len(fields) == len(names), f"LISTING_PAGE_FIELDS names a field {model.__name__} lacks"
        plan.append((model, table, tuple(fields)))
        columns += [f"{quote(table)}.{quote(field_.column)}" for field_ in fields]
    sql = (
        f"SELECT {', '.join(columns)}, EXISTS(SELECT 1 FROM marketplace_stubphoto"
        " WHERE marketplace_stubphoto.stub_id = marketplace_listing.stub_id)"
        " FROM marketplace_listing"
        " INNER JOIN marketplace_stub ON marketplace_stub.id = marketplace_listing.stub_id"
        f" INNER JOIN {quote(models['seller']._meta.db_table)} seller"
        " ON seller.id = marketplace_listing.seller_id"
        " WHERE marketplace_listing.id = %s"
    )
    return sql, tuple(plan)


def listing_for_page(*, listing_id, viewer) -> Listing:
    """listing_visible_to for the listing's own page: LISTING_PAGE_FIELDS only, in one query whose
    SQL is written once (_listing_page_query), with `has_more_photos`: whether its stub has photos
    besides the cover, so the gallery of a listing with its cover alone costs no query of its own
    (marketplace.photos.stub_gallery). The same objects the ORM's select_related gives."""
    try:
        pk = int(listing_id)
    except (ValueError, TypeError):
        pk = 0
    sql, plan = _listing_page_query(connection.vendor)
    row = None
    if 1 <= pk <= MAX_ID:
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
    if row is None:
        raise NotFound("No such listing.", code="listing_not_found")
    values = iter(row)
    listing, stub, seller = _objects_from_row(plan, _page_converters(plan), values)
    Listing.stub.field.set_cached_value(listing, stub)
    Listing.seller.field.set_cached_value(listing, seller)
    listing.has_more_photos = bool(next(values))
    return _shown_to(listing, viewer)


# What the ORM does to each value of a query written once (the listing page's, the seller's newest
# on sale) as it is read (SQLite's dates and booleans, say; on PostgreSQL nearly nothing), per
# database connection (its operations' own) and plan. A plan is made once per process and kept
# (functools.cache), so it is known by its id: hashing its ~40 fields cost more than the lookup.
_CONVERTERS = WeakKeyDictionary()


def _page_converters(plan) -> list:
    ops = connection.ops
    by_plan = _CONVERTERS.get(ops)
    if by_plan is None:
        by_plan = _CONVERTERS[ops] = {}
    found = by_plan.get(id(plan))
    if found is None or found[0] is not plan:
        converters = [
            [
                (*ops.get_db_converters(col), *col.get_db_converters(connection))
                for col in (field_.get_col(table) for field_ in fields)
            ]
            for _model, table, fields in plan
        ]
        found = by_plan[id(plan)] = (plan, converters)
    return found[1]


def _objects_from_row(plan, converters, values) -> list:
    """One model instance per entry of `plan` from a row's values (in the plan's order), as the
    ORM reads them."""
    objects = []
    for (model, _table, fields), field_converters in zip(plan, converters, strict=True):
        read = []
        for field_, convert in zip(fields, field_converters, strict=True):
            value = next(values)
            for step in convert:
                value = step(value, field_, connection)
            read.append(value)
        objects.append(model.from_db(connection.alias, [field_.attname for field_ in fields], read))
    return objects


def seller_newest_on_sale(*, seller_id, count: int, now: datetime | None = None) -> list[Listing]:
    """The seller's `count` newest listings that nobody holds right now, as seller_listings_on_sale
    orders them, with their stubs and without their seller (the caller has that row already:
    marketplace.more_from_seller). What the ORM's select_related("stub") and available_now()
    give, from SQL written once per process (_newest_on_sale_query): the ORM built the query again
    on every call, ~2 ms of CPU, where PostgreSQL answers it in a fraction of that."""
    now = now or timezone.now()
    sql, plan = _newest_on_sale_query(connection.vendor)
    params = [int(seller_id), ListingStatus.ACTIVE.value, ListingStatus.RESERVED.value,
              connection.ops.adapt_datetimefield_value(now), int(count)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    converters, found = _page_converters(plan), []
    for row in rows:
        listing, stub = _objects_from_row(plan, converters, iter(row))
        Listing.stub.field.set_cached_value(listing, stub)
        found.append(listing)
    return found


@cache
def _newest_on_sale_query(vendor: str) -> tuple[str, tuple]:
    """seller_newest_on_sale's SQL (every field of the listing and of its stub, as select_related
    reads them; available_now's condition) and its plan (model, table, fields) per model."""
    quote = connection.ops.quote_name
    plan, columns = [], []
    for model in (Listing, Stub):
        table, fields = model._meta.db_table, tuple(model._meta.concrete_fields)
        plan.append((model, table, fields))
        columns += [f"{quote(table)}.{quote(field_.column)}" for field_ in fields]
    listing, stub = quote(Listing._meta.db_table), quote(Stub._meta.db_table)
    column = {name: f"{listing}.{quote(Listing._meta.get_field(name).column)}"
              for name in ("id", "seller", "stub", "status", "reserved_until", "created_at")}
    sql = (
        f"SELECT {', '.join(columns)} FROM {listing}"
        f" INNER JOIN {stub} ON {stub}.{quote(Stub._meta.pk.column)} = {column['stub']}"
        f" WHERE ({column['seller']} = %s AND ({column['status']} = %s OR ({column['status']} = %s"
        f" AND ({column['reserved_until']} IS NULL OR {column['reserved_until']} <= %s))))"
        f" ORDER BY {column['created_at']} DESC, {column['id']} DESC LIMIT %s"
    )
    return sql, tuple(plan)


def seller_listings_on_sale(*, seller, now: datetime | None = None) -> QuerySet[Listing]:
    """The seller's listings that nobody holds right now, newest first (SORT_KEYS["newest"])."""
    return _listing_base().filter(seller=seller).available_now(now).order_by("-created_at", "-id")

