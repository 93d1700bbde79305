"""A snapshot says whether its order is a completed sale, and the sold-price history reads its
sales from partial covering indexes of the completed snapshots alone (no join to the orders).

The flag is filled for the orders completed now; from here on payments.services.orders keeps it
in step with the order's status. The indexes are built after the fill (one pass each), and the
history's former indexes, over every snapshot, are dropped: nothing else looks snapshots up by
performer or event.
"""

import django.db.models.functions.text
from django.db import migrations, models


def completed_sales_mark(apps, schema_editor):
    OrderSnapshot = apps.get_model("payments", "OrderSnapshot")
    OrderSnapshot.objects.filter(order__status="completed").update(completed_sale=True)


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0017_sold_price_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="ordersnapshot",
            name="completed_sale",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(completed_sales_mark, migrations.RunPython.noop, elidable=True),
        migrations.RemoveIndex(
            model_name="ordersnapshot",
            name="snapshot_performer_date_idx",
        ),
        migrations.RemoveIndex(
            model_name="ordersnapshot",
            name="snapshot_event_date_idx",
        ),
        migrations.AddIndex(
            model_name="ordersnapshot",
            index=models.Index(
                django.db.models.functions.text.Lower("performer"),
                models.F("event_date"),
                models.F("price_cents"),
                models.F("order_id"),
                models.F("taken_at"),
                models.F("performer"),
                condition=models.Q(("completed_sale", True)),
                name="snapshot_sold_performer_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="ordersnapshot",
            index=models.Index(
                django.db.models.functions.text.Lower("event_name"),
                models.F("event_date"),
                models.F("price_cents"),
                models.F("order_id"),
                models.F("taken_at"),
                models.F("event_name"),
                condition=models.Q(("completed_sale", True)),
                name="snapshot_sold_event_idx",
            ),
        ),
    ]
