"""A partial index on dj-stripe's webhook deliveries not applied yet, for the two reads that run
every minute: the redelivery job's due query (payments.services.redelivery.webhook_redelivery_due,
oldest first by id) and the /metrics gauges (stubcollector_webhook_deliveries_overdue, _unprocessed,
_failed_waiting). Both filter `valid AND NOT processed` and then on `exception` and `updated`; without
the index each read the whole table (89-130 ms at 200k rows on PostgreSQL), though all but a
handful of its rows are applied. Keyed by id, it also hands the due query its rows in the order it
takes them, so a batch stops reading after WEBHOOK_REDELIVER_BATCH rows.

The table is dj-stripe's, so the index cannot be declared on its model (AddIndex needs a model of
this app): it is raw SQL, the same on PostgreSQL and SQLite (both build partial indexes, and both
use one when the query's WHERE includes the index's terms, as Django writes `valid AND NOT
processed`). Built in the migration's transaction: on PostgreSQL that holds off new deliveries for
the time of one scan of the table (about a tenth of a second at 200k rows); the view waits, it
does not fail.
"""

from django.db import migrations

INDEX = "djstripe_webhookeventtrigger_unapplied_idx"
CREATE = (f"CREATE INDEX IF NOT EXISTS {INDEX} ON djstripe_webhookeventtrigger (id) "
          "WHERE valid AND NOT processed")
DROP = f"DROP INDEX IF EXISTS {INDEX}"


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0019_sold_price_summaries"),
        ("djstripe", "__latest__"),
    ]

    operations = [
        migrations.RunSQL(CREATE, reverse_sql=DROP),
    ]
