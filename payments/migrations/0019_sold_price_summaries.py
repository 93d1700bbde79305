"""Each comparable group's sold-price figures are kept in a row of their own, counted again when
one of its sales completes or stops being completed (payments.services.sold_prices), so a page
reads a row per group instead of ranking all of its sales. The data step counts every group with
a completed sale now, through the same code (it reads only snapshots and writes only the new
table)."""

from django.db import migrations, models


def summaries_count(apps, schema_editor):
    from payments.services.sold_prices import sold_price_summaries_recount

    sold_price_summaries_recount()


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0018_snapshot_completed_sale"),
    ]

    operations = [
        migrations.CreateModel(
            name="SoldPriceSummary",
            fields=[
                ("key", models.CharField(max_length=240, primary_key=True, serialize=False)),
                ("sales", models.PositiveIntegerField(default=0)),
                ("lowest_cents", models.PositiveIntegerField(null=True)),
                ("median_cents", models.PositiveIntegerField(null=True)),
                ("highest_cents", models.PositiveIntegerField(null=True)),
                ("recent", models.JSONField(default=list)),
                ("counted_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunPython(summaries_count, migrations.RunPython.noop, elidable=True),
    ]
