"""Typo-tolerant search on PostgreSQL: pg_trgm and trigram indexes on the stub's event, performer
and venue, which marketplace.selectors.search_suggestion reads when a text search finds nothing.

pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it without
being a superuser. SQLite has neither; its suggestion is computed in Python (difflib).
Tests run without migrations: conftest.py applies `create_trigram_indexes` to a PostgreSQL test
database.
"""

from django.db import migrations

FIELDS = ("event_name", "performer", "venue")


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for field in FIELDS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS stub_{field}_trgm ON marketplace_stub "
            f"USING GIN ({field} gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for field in FIELDS:
        schema_editor.execute(f"DROP INDEX IF EXISTS stub_{field}_trgm")


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0010_caps_and_price_drop_notices")]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
