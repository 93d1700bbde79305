"""The browse page's SQL on PostgreSQL reads a page's worth of rows, not the table (EXPLAIN).

The plans are those of a catalogue with fresh statistics, as after bench/seed.py or autovacuum:
several thousand listings, a quarter of them sold or withdrawn. No timing is asserted; the plan
shape is what keeps a page's cost flat from 10k to 1M listings (docs/performance.md).
"""

import json
import random

import pytest
from django.db import connection
from django.http import QueryDict

from accounts.tests.factories import NewSellerFactory, SellerFactory
from demo.catalogue import bulk_create_listings
from marketplace.forms import parse_listing_filters
from marketplace.models import Listing, ListingStatus
from marketplace.selectors import (
    COUNT_CAP,
    SEARCH_INDEX_NAME,
    _after_cursor,
    listing_page_cursor,
    listing_search,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

LISTING_TABLES = {"marketplace_listing", "marketplace_stub"}


@pytest.fixture
def catalogue():
    rng = random.Random(13)
    bulk_create_listings(sellers=[*SellerFactory.create_batch(6), NewSellerFactory()], count=6000, rng=rng)
    ids = list(Listing.objects.values_list("pk", flat=True))
    for status, share in ((ListingStatus.SOLD, 5), (ListingStatus.WITHDRAWN, 20)):
        Listing.objects.filter(pk__in=ids[::share]).update(status=status)
    with connection.cursor() as cursor:
        # Listed over three years, not within the second bulk_create took.
        cursor.execute("UPDATE marketplace_listing SET created_at = now() - random() * interval '3 years'")
        for table in ("marketplace_stub", "marketplace_listing", "accounts_user"):
            cursor.execute(f"ANALYZE {table}")


def plan_of(queryset, *, count=False) -> dict:
    if count:
        queryset = queryset.order_by().values("pk")[: COUNT_CAP + 1]
    sql, params = queryset.query.sql_with_params()
    if count:
        sql = f"SELECT count(*) FROM ({sql}) capped"
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (document,) = cursor.fetchone()
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def seq_scanned(plan) -> set[str]:
    return {node["Relation Name"] for node in nodes(plan) if node["Node Type"] == "Seq Scan"}


def search(query: str):
    _form, filters = parse_listing_filters(QueryDict(query))
    return listing_search(filters=filters), filters


def test_first_page_walks_an_on_sale_index_and_stops(catalogue):
    qs, _ = search("")
    plan = plan_of(qs[:25])
    assert plan["Node Type"] == "Limit"
    assert not seq_scanned(plan) & LISTING_TABLES, json.dumps(plan, indent=1)
    used = {node.get("Index Name") for node in nodes(plan)}
    assert "listing_onsale_newest_idx" in used, used
    assert not [node for node in nodes(plan) if node["Node Type"] == "Sort"]  # no sort of all rows


def test_price_sort_walks_the_on_sale_price_index(catalogue):
    qs, _ = search("sort=price_desc&min_price=10")
    plan = plan_of(qs[:25])
    assert not seq_scanned(plan) & LISTING_TABLES, json.dumps(plan, indent=1)
    assert "listing_onsale_price_idx" in {node.get("Index Name") for node in nodes(plan)}


def test_the_count_is_capped(catalogue):
    qs, _ = search("")
    plan = plan_of(qs, count=True)
    limits = [node for node in nodes(plan) if node["Node Type"] == "Limit"]
    assert limits and limits[0]["Plan Rows"] <= COUNT_CAP + 1  # reads at most 1,001 rows


def test_a_text_search_uses_the_gin_index_and_no_table_scan(catalogue):
    # 6,000 listings fit in a few pages, so a hash join over the whole small table is the cheaper
    # plan here; at 100k the planner chooses the index join by itself (docs/performance.md).
    # This test asks whether the index paths exist: with table scans priced out, none is left.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    qs, _ = search("q=springsteen&sort=price_asc")
    counted = plan_of(qs, count=True)
    assert SEARCH_INDEX_NAME in {node.get("Index Name") for node in nodes(counted)}, json.dumps(counted)
    assert not seq_scanned(counted) & LISTING_TABLES
    page = plan_of(qs[:25])
    assert not seq_scanned(page) & LISTING_TABLES, json.dumps(page, indent=1)
    # The page finds the matches through the index too, rather than walking the sort's index and
    # testing every row until 25 match (seconds at 1M when the matches sit at the far end).
    assert SEARCH_INDEX_NAME in {node.get("Index Name") for node in nodes(page)}, json.dumps(page)


def test_a_deep_next_page_starts_at_its_cursor(catalogue):
    qs, filters = search("")
    deep = qs[1500]  # far past the numbered pages
    after = _after_cursor(qs, sort=filters.sort, cursor=listing_page_cursor(listing=deep, sort=filters.sort))
    plan = plan_of(after[:25])
    assert not seq_scanned(plan) & LISTING_TABLES, json.dumps(plan, indent=1)
    walks = [node for node in nodes(plan) if node.get("Index Name") == "listing_onsale_newest_idx"]
    assert walks and "created_at <=" in walks[0].get("Index Cond", ""), json.dumps(plan, indent=1)


def test_a_deep_cursor_page_shows_the_listings_after_the_cursor(catalogue, client):
    qs, filters = search("")
    expected = list(qs.values_list("pk", flat=True)[3000:3024])
    cursor = listing_page_cursor(listing=qs[2999], sort=filters.sort)
    response = client.get("/", {"after": cursor})
    assert [listing.pk for listing in response.context["listings"]] == expected
