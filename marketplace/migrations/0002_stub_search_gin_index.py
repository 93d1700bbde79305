"""Full-text search index for the browse page, on PostgreSQL only.

Replaced by migration 0008 (the search document on the listing itself), which drops this index.
SQLite has no GIN indexes; its search is a plain icontains fallback.
"""

from django.db import migrations

INDEX_NAME = "stub_search_document_gin"
CREATE_SQL = (
    f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON marketplace_stub USING GIN "
    "(to_tsvector('english', coalesce(event_name,'')||' '||coalesce(performer,'')||' '||"
    "coalesce(venue,'')||' '||coalesce(city,'')))"
)
DROP_SQL = f"DROP INDEX IF EXISTS {INDEX_NAME}"


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_SQL)


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
    ]
