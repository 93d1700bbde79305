"""A search with a typo finds what the closest spelling in the catalogue finds, and says so
("did you mean"): pg_trgm's word similarity on PostgreSQL, difflib on SQLite."""

import pytest

from marketplace.models import ListingStatus
from marketplace.selectors import search_suggestion
from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def metallica():
    return ListingFactory(stub__performer="Metallica", stub__event_name="Master of Puppets tour",
                          stub__venue="Cow Palace")


def test_a_misspelt_performer_suggests_the_catalogues_spelling(metallica):
    assert search_suggestion(text="metalica") == "Metallica"


def test_a_misspelt_venue_suggests_the_venue(metallica):
    assert search_suggestion(text="Cow Palase") == "Cow Palace"


def test_nothing_close_suggests_nothing(metallica):
    assert search_suggestion(text="zzqxv") is None
    assert search_suggestion(text="ab") is None


def test_the_exact_spelling_is_not_suggested_back(metallica):
    assert search_suggestion(text="METALLICA") is None


def test_a_stub_no_longer_on_sale_is_not_suggested(metallica):
    metallica.status = ListingStatus.SOLD
    metallica.save(update_fields=["status"])

    assert search_suggestion(text="metalica") is None


def test_the_browse_page_shows_the_suggestions_results_and_says_so(client, metallica):
    response = client.get("/", {"q": "metalica"})

    assert response.status_code == 200
    assert "Did you mean" in response.text
    assert 'href="/?q=Metallica"' in response.text
    assert f"/listings/{metallica.pk}/" in response.text


def test_a_search_that_finds_something_offers_no_suggestion(client, metallica):
    response = client.get("/", {"q": "metallica"})

    assert "Did you mean" not in response.text
    assert f"/listings/{metallica.pk}/" in response.text


def test_a_typo_with_no_close_spelling_shows_the_empty_page(client, metallica):
    response = client.get("/", {"q": "zzqxv"})

    assert "Did you mean" not in response.text
    assert "No stubs match that search yet." in response.text


def test_every_page_has_a_search_box_in_the_header(client, metallica):
    for path in ("/", f"/listings/{metallica.pk}/", "/accounts/login/"):
        page = client.get(path).text
        assert 'class="header-search"' in page
        assert 'id="header-q" name="q"' in page


@pytest.mark.postgres
def test_the_suggestion_reads_the_trigram_index_on_postgresql(metallica):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT 1 FROM marketplace_stub WHERE performer %> 'metalica'")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")

    assert "stub_performer_trgm" in plan
