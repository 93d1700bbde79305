"""PostgreSQL full-text search of the browse page, and its GIN index (skipped on SQLite)."""

import importlib
import random

import pytest
from django.db import connection

from accounts.tests.factories import SellerFactory
from marketplace.demo import bulk_create_listings
from marketplace.selectors import STUB_SEARCH_INDEX_NAME, ListingFilters, listing_search
from marketplace.tests.factories import ListingFactory, StubFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

search_migration = importlib.import_module("marketplace.migrations.0002_stub_search_gin_index")


@pytest.fixture(autouse=True)
def _postgres_with_search_index():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL full-text search; this database is " + connection.vendor)
    # Tests run with --no-migrations: make the index exactly as migration 0002 does.
    with connection.schema_editor() as editor:
        search_migration.create_search_index(None, editor)


def found(text):
    return [listing.pk for listing in listing_search(filters=ListingFilters(q=text))]


def test_full_text_search_finds_by_performer_venue_city_and_event():
    boss = ListingFactory(stub=StubFactory(
        event_name="Born in the U.S.A. Tour", performer="Bruce Springsteen",
        venue="Meadowlands Arena", city="East Rutherford"))
    ListingFactory(stub=StubFactory(
        event_name="Purple Rain Tour", performer="Prince", venue="First Avenue", city="Minneapolis"))

    assert found("springsteen") == [boss.pk]
    assert found("Meadowlands arena") == [boss.pk]
    assert found("rutherford") == [boss.pk]
    assert found("tours") == sorted([boss.pk, *found("prince")], reverse=True)  # stemmed: tours → tour
    assert found("tour -prince") == [boss.pk]  # websearch syntax
    assert found('"purple rain"') == found("prince")
    assert found("nothing-like-this") == []


def test_search_text_with_operators_and_quotes_is_harmless(client):
    ListingFactory(stub=StubFactory(performer="Nina Simone"))
    for text in ["'", '"', "&|!", "a & b", "(((", "simone:*", "\\"]:
        assert client.get("/", {"q": text}).status_code == 200


def test_the_search_query_uses_the_gin_index():
    sellers = SellerFactory.create_batch(3)
    bulk_create_listings(sellers=sellers, count=2000, rng=random.Random(1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE marketplace_stub")
        cursor.execute("ANALYZE marketplace_listing")
        cursor.execute("ANALYZE accounts_user")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a small table would otherwise be scanned
    plan = listing_search(filters=ListingFilters(q="springsteen")).explain()
    assert STUB_SEARCH_INDEX_NAME in plan, plan


def test_the_index_expression_is_the_one_the_selector_uses():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [STUB_SEARCH_INDEX_NAME])
        (definition,) = cursor.fetchone()
    assert "to_tsvector('english'::regconfig" in definition
    for column in ("event_name", "performer", "venue", "city"):
        assert column in definition
