"""Reads shared by the marketplace pages and the JSON API, each in a constant number of queries."""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import F, Func, Q, QuerySet, Value

from marketplace.models import Listing, ListingStatus
from stubcollector.errors import NotFound

SORT_ORDERINGS = {
    "newest": ("-created_at", "-id"),
    "price_asc": ("price_cents", "id"),
    "price_desc": ("-price_cents", "-id"),
    "event_date": ("stub__event_date", "id"),
}
DEFAULT_SORT = "newest"

# The search document, exactly as the GIN index of migration 0002 spells it, so PostgreSQL can use
# that index: to_tsvector('english', coalesce(event_name,'')||' '||…||' '||coalesce(city,'')).
SEARCH_CONFIG = "english"
SEARCH_COLUMNS = ("event_name", "performer", "venue", "city")
STUB_SEARCH_INDEX_NAME = "stub_search_document_gin"  # created by migration 0002 (PostgreSQL only)

class _Coalesced(Func):
    template = "coalesce(%(expressions)s, '')"


class StubSearchDocument(Func):
    """to_tsvector('english', coalesce(a,'')||' '||coalesce(b,'')…) over the stub's columns."""

    arg_joiner = " || ' ' || "
    template = f"to_tsvector('{SEARCH_CONFIG}', %(expressions)s)"
    output_field = SearchVectorField()

    def __init__(self, prefix: str = "stub__"):
        super().__init__(*(_Coalesced(F(f"{prefix}{column}")) for column in SEARCH_COLUMNS))


@dataclass(frozen=True)
class ListingFilters:
    q: str = ""
    category: str = ""
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT

    @property
    def ordering(self) -> tuple[str, ...]:
        return SORT_ORDERINGS.get(self.sort, SORT_ORDERINGS[DEFAULT_SORT])


def _listing_base() -> QuerySet[Listing]:
    return Listing.objects.select_related("stub", "seller")


def _apply_text_search(qs: QuerySet[Listing], text: str) -> QuerySet[Listing]:
    if connection.vendor == "postgresql":
        query = SearchQuery(Value(text), search_type="websearch", config=SEARCH_CONFIG)
        return qs.alias(search_document=StubSearchDocument()).filter(search_document=query)
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
    return qs.order_by(*filters.ordering)


def listing_search(*, filters: ListingFilters, now: datetime | None = None) -> QuerySet[Listing]:
    """What the browse page and /api/listings/ show: listings someone can buy now, filtered."""
    return listing_filter(_listing_base().purchasable_now(now), filters)


def listing_visible_to(*, listing_id, viewer) -> Listing:
    """One listing for its detail page. Drafts and withdrawn listings exist only for their owner."""
    try:
        listing = _listing_base().get(pk=int(listing_id))
    except (Listing.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such listing.", code="listing_not_found") from None
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


def seller_listings_on_sale(*, seller, now: datetime | None = None) -> QuerySet[Listing]:
    """The seller's listings that nobody holds right now, newest first."""
    return _listing_base().filter(seller=seller).available_now(now).order_by("-created_at", "-id")


def orders_for_user(*, user) -> dict:
    """The caller's purchases and sales as Order querysets, two queries whatever their number."""
    from payments.models import Order  # payments depends on marketplace, not the other way round

    base = Order.objects.select_related("listing__stub", "buyer", "seller").order_by("-created_at", "-id")
    return {"purchases": base.filter(buyer=user), "sales": base.filter(seller=user)}
