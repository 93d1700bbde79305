import django.db.models.deletion
from django.db import migrations, models


def staff_groups_top_up(apps, schema_editor):
    # Support and Finance may view the new early fraud warnings (payments/staff.py).
    from payments.staff import staff_groups_ensure

    staff_groups_ensure(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("payments", "0007_fees_and_balances")]

    operations = [
        migrations.AddField(
            model_name="dispute",
            name="charge_refundable",
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name="EarlyFraudWarning",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("stripe_warning_id", models.CharField(max_length=64, unique=True)),
                ("stripe_account_id", models.CharField(max_length=64)),
                ("charge_id", models.CharField(blank=True, max_length=64)),
                ("fraud_type", models.CharField(blank=True, max_length=40)),
                ("actionable", models.BooleanField(default=True)),
                ("stripe_created", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("order", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                            related_name="fraud_warnings", to="payments.order")),
            ],
            options={"ordering": ["-stripe_created", "-id"]},
        ),
        migrations.RunPython(staff_groups_top_up, migrations.RunPython.noop),
    ]
