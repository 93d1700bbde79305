"""A text search's page is looked for within a range of its sort order first (PostgreSQL):
the same listings in the same order as a plain query over every match, for common and rare
words, every sort, numbered and cursor pages; and the plans that make it cheap (EXPLAIN).

The catalogue is 7,000 listings of eight events with fresh statistics (as after bench/seed.py or
autovacuum): "new" is in more listings on sale than COUNT_CAP, "queen" in hundreds, "quokka" in
five.
No timing is asserted: docs/performance.md ("Text search at a million") has the figures.
"""

import json
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import NewSellerFactory, SellerFactory, UserFactory
from marketplace import selectors
from marketplace.forms import parse_listing_filters
from marketplace.models import Category, Listing, ListingStatus, Stub
from marketplace.selectors import (
    COUNT_CAP,
    SEARCH_INDEX_NAME,
    SORT_ORDERINGS,
    listing_filter,
    listing_page,
    listing_search,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PER_PAGE = 24
COMMON, SOME, RARE = "new", "queen", "quokka"


# (event, performer, venue, city, category, lowest and highest price in dollars): each event's
# stubs share its words and sit in its price band, as the demo catalogue's do, so the matches of
# a word gather in one part of a price order.
EVENTS = [
    (
        "Born in the U.S.A. Tour",
        "Bruce Springsteen",
        "Giants Stadium",
        "East Rutherford",
        Category.CONCERT,
        60,
        180,
    ),
    ("Bigger & Blacker", "Chris Rock", "Apollo Theater", "New York", Category.COMEDY, 35, 120),
    ("The Phantom of the Opera", "", "Majestic Theatre", "New York", Category.THEATRE, 40, 300),
    ("World Series Game 6", "Yankees vs Dodgers", "Yankee Stadium", "New York", Category.SPORTS, 150, 600),
    ("Purple Rain Tour", "Prince", "Joe Louis Arena", "Detroit", Category.CONCERT, 90, 320),
    ("A Night at the Opera Tour", "Queen", "Hammersmith Odeon", "London", Category.CONCERT, 250, 900),
    ("Woodstock", "Various Artists", "Max Yasgur's Farm", "Bethel", Category.FESTIVAL, 100, 500),
    ("Star Wars", "", "Grauman's Chinese Theatre", "Los Angeles", Category.FILM, 20, 80),
]


@pytest.fixture
def catalogue():
    rng = random.Random(20)
    sellers = [*SellerFactory.create_batch(5), NewSellerFactory()]
    drafts = [rng.choice(EVENTS) for _ in range(7000)]
    stubs = Stub.objects.bulk_create(
        Stub(
            event_name=event,
            performer=performer,
            venue=venue,
            city=city,
            category=category,
            event_date=date(1990, 1, 1) + timedelta(days=rng.randrange(9000)),
        )
        for event, performer, venue, city, category, _low, _high in drafts
    )
    Listing.objects.bulk_create(
        Listing(
            seller=rng.choice(sellers),
            stub=stub,
            status=ListingStatus.ACTIVE,
            price_cents=rng.randint(draft[-2], draft[-1]) * 100 + rng.choice([0, 0, 50, 99]),
        )
        for stub, draft in zip(stubs, drafts, strict=True)
    )
    ids = list(Listing.objects.order_by("pk").values_list("pk", flat=True))
    for status, share in ((ListingStatus.SOLD, 5), (ListingStatus.WITHDRAWN, 19)):
        Listing.objects.filter(pk__in=ids[::share]).update(status=status)
    # Held by a buyer now (not shown) and held once, lapsed (shown).
    buyer = UserFactory()
    for share, minutes in ((slice(1, None, 23), 9), (slice(2, None, 23), -60)):
        Listing.objects.filter(pk__in=ids[share]).update(
            status=ListingStatus.RESERVED,
            reserved_by=buyer,
            reserved_until=timezone.now() + timedelta(minutes=minutes),
        )
    # The stub's trigger carries the new performer into each listing's search document.
    quokkas = Listing.objects.filter(pk__in=rng.sample(ids, 5)).values_list("stub_id", flat=True)
    Stub.objects.filter(pk__in=list(quokkas)).update(performer="The Quokka Quartet")
    with connection.cursor() as cursor:
        # Listed over three years, and some in the same second: ties in the sort key.
        cursor.execute("UPDATE marketplace_listing SET created_at = now() - random() * interval '3 years'")
        cursor.execute(
            "UPDATE marketplace_listing SET created_at = date_trunc('day', created_at) WHERE id % 7 = 0"
        )
        for table in ("marketplace_stub", "marketplace_listing", "accounts_user"):
            cursor.execute(f"ANALYZE {table}")


def search(query: str):
    _form, filters = parse_listing_filters(QueryDict(query))
    return listing_search(filters=filters), filters


def plainly(query: str) -> list[int]:
    """Every match in order, the straightforward way: the purchasable listings whose document
    matches, ordered by the sort's own columns, no range and no limit."""
    _form, filters = parse_listing_filters(QueryDict(query))
    # The other filters as browse applies them (their own tests cover them), the text search
    # spelled out, ordered by the sort's columns themselves.
    qs = listing_filter(Listing.objects.purchasable_now(), replace(filters, q=""))
    text = "marketplace_listing.search_document @@ websearch_to_tsquery('english', %s)"
    qs = qs.filter(RawSQL(text, [filters.q], output_field=BooleanField()))
    return list(qs.order_by(*SORT_ORDERINGS[filters.sort]).values_list("pk", flat=True))


def ids(page) -> list[int]:
    return [listing.pk for listing in page.listings]


QUERIES = [
    f"q={COMMON}",
    f"q={COMMON}&sort=price_asc",
    f"q={COMMON}&sort=price_desc",
    f"q={COMMON}&sort=event_date",
    f"q={COMMON}&category=theatre&min_price=40&max_price=300&sort=price_desc",
    "q=springsteen&category=concert&min_price=20&max_price=2000&sort=price_desc",
    f"q={SOME}",
    f"q={SOME}&sort=price_asc",
    f"q={SOME}&min_price=100&sort=price_desc",
    f"q={RARE}",
    f"q={RARE}&sort=price_asc",
    "q=york+theatre&sort=price_desc",
    "q=nothing+matches+this",
]


def assert_pages_as_plain(query: str) -> None:
    expected = plainly(query)
    qs, filters = search(query)
    first = listing_page(qs, sort=filters.sort, per_page=PER_PAGE)
    assert first.count == min(len(expected), COUNT_CAP), query
    assert first.count_capped == (len(expected) > COUNT_CAP), query
    assert ids(first) == expected[:PER_PAGE], query
    for number in (2, 3, first.num_pages):
        page = listing_page(qs, sort=filters.sort, per_page=PER_PAGE, page=str(number))
        start = (page.number - 1) * PER_PAGE
        assert ids(page) == expected[start : start + PER_PAGE], (query, number)
    last = listing_page(qs, sort=filters.sort, per_page=PER_PAGE, page="last")
    cursor, shown = last.next_cursor, (last.number - 1) * PER_PAGE + len(last.listings)
    for _ in range(3):  # the cursor pages past the numbered ones
        if cursor is None:
            break
        page = listing_page(qs, sort=filters.sort, per_page=PER_PAGE, after=cursor)
        assert ids(page) == expected[shown : shown + PER_PAGE], (query, cursor)
        cursor, shown = page.next_cursor, shown + len(page.listings)
    assert shown == len(expected) or cursor is not None, query


def test_every_page_holds_what_a_plain_query_over_every_match_holds(catalogue, monkeypatch):
    # One catalogue for every query (building it is most of the test's time). The default range
    # holds the page for the common word by newest; a range of one listing per row wanted is too
    # narrow for any word, so the range of the best counted matches and the plain sort run too.
    for per_row in (selectors.SEARCH_RANGE_PER_ROW, 1):
        monkeypatch.setattr(selectors, "SEARCH_RANGE_PER_ROW", per_row)
        for query in QUERIES:
            assert_pages_as_plain(query)


def test_the_catalogue_has_a_common_and_a_rare_word(catalogue):
    assert len(plainly(f"q={COMMON}")) > COUNT_CAP
    assert PER_PAGE < len(plainly(f"q={SOME}")) <= COUNT_CAP
    assert 0 < len(plainly(f"q={RARE}")) < PER_PAGE


def page_plans(query: str) -> list[dict]:
    """The plan of each listing query a browse page of `query` runs, in order."""
    qs, filters = search(query)
    with CaptureQueriesContext(connection) as queries:
        listing_page(qs, sort=filters.sort, per_page=PER_PAGE)
    plans = []
    for query_run in queries.captured_queries:
        if "marketplace_listing" not in query_run["sql"]:
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + query_run["sql"])
            (document,) = cursor.fetchone()
        plans.append((json.loads(document) if isinstance(document, str) else document)[0]["Plan"])
    return plans


def nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def node_types(plan) -> set[str]:
    return {node["Node Type"] for node in nodes(plan)}


def index_names(plan) -> set[str]:
    return {node.get("Index Name") for node in nodes(plan)} - {None}


def seq_scanned(plan) -> set[str]:
    return {node["Relation Name"] for node in nodes(plan) if node["Node Type"] == "Seq Scan"}


@pytest.fixture
def no_table_scans():
    # A few thousand listings fit in a few pages, where reading the whole table is the cheaper
    # plan; at 100k and 1M the planner takes the index paths by itself (docs/performance.md).
    # With table scans priced out, the test asks which index paths the queries offer.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")


def test_a_common_word_reads_its_page_within_a_range_of_the_newest(catalogue, no_table_scans, monkeypatch):
    # At 1M the default range is the newest 5,000 of ~600k listings on sale; here 250 of ~5,000.
    monkeypatch.setattr(selectors, "SEARCH_RANGE_PER_ROW", 10)
    sample, edge, page, load = page_plans(f"q={COMMON}")
    assert SEARCH_INDEX_NAME in index_names(sample)
    assert sample["Node Type"] == "Limit" and sample["Plan Rows"] <= COUNT_CAP + 1
    # Where the range ends: read from the on-sale index alone.
    assert "Index Only Scan" in node_types(edge) and "listing_onsale_newest_idx" in index_names(edge)
    # The page: read within the range, through an index condition on its end (at 1M, "new", in
    # a quarter of the listings, walks listing_onsale_newest_idx and stops after 25; here the
    # planner may as well read the 250 from a bitmap and sort them), never every match.
    bounded = [node for node in nodes(page) if "created_at >=" in node.get("Index Cond", "")]
    assert bounded, json.dumps(page, indent=1)
    assert page["Node Type"] == "Limit"
    assert not seq_scanned(page) & {"marketplace_listing", "marketplace_stub"}
    assert "marketplace_listing_pkey" in index_names(load)  # then its 25 rows, by id


def test_a_less_common_word_ands_the_gin_index_with_the_range(catalogue, no_table_scans, monkeypatch):
    # "queen" is in one listing in eight here, "rock" in one in forty at 1M: PostgreSQL ANDs the
    # GIN index's matches with the range of the created_at index and sorts the few in both.
    # COUNT_CAP lowered so that the capped count says "more" for a word in hundreds.
    monkeypatch.setattr(selectors, "COUNT_CAP", 100)
    monkeypatch.setattr(selectors, "SEARCH_RANGE_PER_ROW", 20)
    sample, edge, page, load = page_plans(f"q={SOME}")
    assert "listing_onsale_newest_idx" in index_names(edge)
    assert {"BitmapAnd", "Sort"} <= node_types(page), json.dumps(page, indent=1)
    assert SEARCH_INDEX_NAME in index_names(page)
    assert not seq_scanned(page) & {"marketplace_listing", "marketplace_stub"}


def test_a_rare_word_reads_its_few_matches_from_the_gin_index_and_loads_the_page_by_id(
    catalogue, no_table_scans
):
    sample, load = page_plans(f"q={RARE}")
    assert SEARCH_INDEX_NAME in index_names(sample)
    # Every match is in the capped count's sample, sorted in Python: the page is loaded by id.
    assert "marketplace_listing_pkey" in index_names(load), json.dumps(load, indent=1)
    assert not {"Sort", "BitmapAnd"} & node_types(load)
    assert SEARCH_INDEX_NAME not in index_names(load)


def test_a_common_word_by_price_goes_to_the_range_its_counted_matches_show(
    catalogue, no_table_scans, monkeypatch
):
    # A range of the 25 cheapest listings on sale holds fewer than 25 matches: the 25th cheapest
    # of the counted matches then bounds the page (at 1M: "rock", whose stubs cost $35 and up).
    monkeypatch.setattr(selectors, "SEARCH_RANGE_PER_ROW", 1)
    sample, edge, too_narrow, page, load = page_plans(f"q={COMMON}&sort=price_asc")
    assert SEARCH_INDEX_NAME in index_names(sample)
    assert "listing_onsale_price_idx" in index_names(edge)
    assert SEARCH_INDEX_NAME in index_names(page)
    bounded = [
        node
        for node in nodes(page)
        if "price_cents <="
        in node.get("Recheck Cond", "") + node.get("Index Cond", "") + node.get("Filter", "")
    ]
    assert bounded, json.dumps(page, indent=1)
