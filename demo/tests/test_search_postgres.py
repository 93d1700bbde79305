"""PostgreSQL full-text search of the browse page, and its GIN index (skipped on SQLite)."""

import random

import pytest
from django.db import connection

from accounts.tests.factories import SellerFactory
from demo.catalogue import bulk_create_listings
from marketplace.selectors import SEARCH_INDEX_NAME, ListingFilters, listing_search
from marketplace.tests.factories import ListingFactory, StubFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


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
    assert SEARCH_INDEX_NAME in plan, plan


def test_the_index_covers_the_listings_that_can_be_on_sale():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [SEARCH_INDEX_NAME])
        (definition,) = cursor.fetchone()
    assert "USING gin (search_document)" in definition
    assert "'active'" in definition and "'reserved'" in definition


def test_an_edited_stub_is_found_by_its_new_words_only():
    listing = ListingFactory(stub=StubFactory(event_name="Purple Rain Tour", performer="Prince",
                                              venue="First Avenue", city="Minneapolis"))
    stub = listing.stub
    stub.performer, stub.venue = "The Replacements", "Seventh Street Entry"
    stub.save()

    assert found("replacements") == [listing.pk]
    assert found('"seventh street"') == [listing.pk]
    assert found("prince") == []


def test_a_listing_follows_its_stub_when_it_points_at_another():
    listing = ListingFactory(stub=StubFactory(event_name="Woodstock", performer="Hendrix"))
    other = StubFactory(event_name="Monterey Pop", performer="Otis Redding")
    listing.stub = other
    listing.save()

    assert found("redding") == [listing.pk]
    assert found("hendrix") == []


def test_sql_that_bypasses_django_cannot_leave_a_stale_document():
    listing = ListingFactory(stub=StubFactory(performer="Nina Simone"))
    with connection.cursor() as cursor:  # a raw UPDATE, as a data fix might write it
        cursor.execute("UPDATE marketplace_listing SET search_document = NULL, stub_id = stub_id "
                       "WHERE id = %s", [listing.pk])
    assert found("simone") == [listing.pk]
