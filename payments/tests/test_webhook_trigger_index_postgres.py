"""The reads that run every minute over dj-stripe's webhook deliveries (the redelivery job's due
query and /metrics' delivery gauges) go through the partial index of deliveries not applied
(payments/migrations/0020_webhook_trigger_unapplied_index.py) instead of reading the whole table
(PostgreSQL; `PYTEST_WORKERS=0 bash scripts/test_postgres.sh
payments/tests/test_webhook_trigger_index_postgres.py`).

The table is filled as a site that has run a while fills it, almost every delivery applied and a
few not, and analysed, so the planner chooses with real statistics: table scans are not priced
out, the index has to be the cheaper plan. The tests run with --no-migrations, so the fixture
builds the index with the migration's own SQL.
"""

import importlib
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djstripe.models import WebhookEventTrigger

from payments.metrics import payments_metrics_collect
from payments.services.redelivery import webhooks_redeliver
from payments.services.webhooks import FAILED_PREFIX
from payments.tests.redelivery_support import last_touched

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

MIGRATION = importlib.import_module("payments.migrations.0020_webhook_trigger_unapplied_index")
TABLE = WebhookEventTrigger._meta.db_table
APPLIED = 20_000


@pytest.fixture
def deliveries(settings):
    with connection.cursor() as cursor:
        cursor.execute(MIGRATION.CREATE)
    WebhookEventTrigger.objects.bulk_create(
        [WebhookEventTrigger(remote_ip="127.0.0.1", headers={}, body="{}", valid=True, processed=True)
         for _ in range(APPLIED)], batch_size=2_000)
    waiting = [WebhookEventTrigger.objects.create(remote_ip="127.0.0.1", headers={}, body="{}", valid=True)
               for _ in range(4)]
    overdue = settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 60
    for trigger in waiting[:2]:  # lost tasks: due
        last_touched(trigger, seconds_ago=overdue)
    WebhookEventTrigger.objects.filter(pk=waiting[3].pk).update(exception=f"{FAILED_PREFIX} 6 tries: boom")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
    return waiting


def nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def nodes_of(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (document,) = cursor.fetchone()
    return list(nodes((json.loads(document) if isinstance(document, str) else document)[0]["Plan"]))


def trigger_scans(sql: str) -> list[dict]:
    return [node for node in nodes_of(sql) if node.get("Relation Name") == TABLE]


def reads_of_the_table(queries) -> list[str]:
    return [query["sql"] for query in queries
            if f'FROM "{TABLE}"' in query["sql"] and query["sql"].lstrip().upper().startswith("SELECT")]


def assert_through_the_index(sql: str) -> None:
    scans = trigger_scans(sql)
    assert scans, sql
    for node in scans:
        assert node["Node Type"] in {"Index Scan", "Bitmap Heap Scan", "Index Only Scan"}, (node, sql)
        index = node.get("Index Name") or node["Plans"][0].get("Index Name")
        assert index == MIGRATION.INDEX, (node, sql)


def test_the_metrics_gauges_read_the_index_of_deliveries_not_applied(deliveries):
    with CaptureQueriesContext(connection) as queries:
        gauges = {family.name: family.samples[0].value for family in payments_metrics_collect()
                  if family.name.startswith("stubcollector_webhook_deliveries")}

    assert gauges == {"stubcollector_webhook_deliveries_failed_waiting": 1,
                      "stubcollector_webhook_deliveries_unprocessed": 3,
                      "stubcollector_webhook_deliveries_overdue": 2}
    reads = reads_of_the_table(queries.captured_queries)
    assert len(reads) == 3, reads  # failed, waiting, overdue
    for sql in reads:
        assert_through_the_index(sql)


def test_the_redelivery_run_lists_the_due_deliveries_oldest_first_from_the_index(deliveries, monkeypatch):
    monkeypatch.setattr("payments.services.redelivery._redeliver_one", lambda **kwargs: "skipped")
    with CaptureQueriesContext(connection) as queries:
        report = webhooks_redeliver()

    assert report.skipped == 2
    (listing,) = reads_of_the_table(queries.captured_queries)
    assert "ORDER BY" in listing and "LIMIT" in listing
    assert_through_the_index(listing)
    # Its rows in the order the run takes them: no sort step over whatever the filter let through.
    assert not [node for node in nodes_of(listing) if node["Node Type"] == "Sort"]
