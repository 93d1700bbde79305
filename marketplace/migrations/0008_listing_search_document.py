"""Text search on the listing itself, on PostgreSQL only (docs/performance.md, change 10).

A text search used to find the matching stubs through a GIN index on marketplace_stub and then
join them with the listings on sale: at a million listings PostgreSQL read every listing on sale
(~590k rows) to join 20k matches, 0.3 s per search. Now each listing carries its stub's search
document (`search_document`, a tsvector kept by the triggers below, never written by Django),
and a GIN index over the listings that can be on sale finds the matching listings directly.

The column is not a model field: Django neither reads nor writes it (only
marketplace.selectors' raw search SQL does), and SQLite, which has no tsvector, never has it.
Tests run without migrations: conftest.py applies `create_search_document` to a PostgreSQL test
database. The document is the one migration 0002 indexed on the stub, whose index this drops.
"""

from django.db import migrations

DOCUMENT = (
    "to_tsvector('english', coalesce({s}.event_name,'')||' '||coalesce({s}.performer,'')||' '||"
    "coalesce({s}.venue,'')||' '||coalesce({s}.city,''))"
)
INDEX_NAME = "listing_onsale_search_gin"

CREATE_SQL = [
    "ALTER TABLE marketplace_listing ADD COLUMN IF NOT EXISTS search_document tsvector",
    f"""CREATE OR REPLACE FUNCTION marketplace_listing_search_document() RETURNS trigger AS $$
        BEGIN
            NEW.search_document := (SELECT {DOCUMENT.format(s="s")} FROM marketplace_stub s
                                    WHERE s.id = NEW.stub_id);
            RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS listing_search_document ON marketplace_listing",
    """CREATE TRIGGER listing_search_document BEFORE INSERT OR UPDATE OF stub_id ON marketplace_listing
        FOR EACH ROW EXECUTE FUNCTION marketplace_listing_search_document()""",
    f"""CREATE OR REPLACE FUNCTION marketplace_stub_search_document() RETURNS trigger AS $$
        BEGIN
            UPDATE marketplace_listing SET search_document = {DOCUMENT.format(s="NEW")}
                WHERE stub_id = NEW.id;
            RETURN NULL;
        END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS stub_search_document ON marketplace_stub",
    """CREATE TRIGGER stub_search_document
        AFTER UPDATE OF event_name, performer, venue, city ON marketplace_stub
        FOR EACH ROW EXECUTE FUNCTION marketplace_stub_search_document()""",
    f"""UPDATE marketplace_listing l SET search_document = {DOCUMENT.format(s="s")}
        FROM marketplace_stub s WHERE s.id = l.stub_id""",
    # fastupdate off: a new listing goes into the index at once, not into a pending list that
    # every search would scan until the next vacuum (listings are written far less than searched).
    f"""CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON marketplace_listing USING GIN (search_document)
        WITH (fastupdate = off) WHERE status IN ('active', 'reserved')""",
    "DROP INDEX IF EXISTS stub_search_document_gin",
]

DROP_SQL = [
    f"DROP INDEX IF EXISTS {INDEX_NAME}",
    "DROP TRIGGER IF EXISTS stub_search_document ON marketplace_stub",
    "DROP TRIGGER IF EXISTS listing_search_document ON marketplace_listing",
    "DROP FUNCTION IF EXISTS marketplace_stub_search_document()",
    "DROP FUNCTION IF EXISTS marketplace_listing_search_document()",
    "ALTER TABLE marketplace_listing DROP COLUMN IF EXISTS search_document",
    "CREATE INDEX IF NOT EXISTS stub_search_document_gin ON marketplace_stub USING GIN "
    f"({DOCUMENT.format(s='marketplace_stub')})",
]


def create_search_document(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE_SQL:
            schema_editor.execute(statement)


def drop_search_document(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP_SQL:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0007_listing_onsale_indexes"),
    ]

    operations = [
        migrations.RunPython(create_search_document, drop_search_document, elidable=False),
    ]
