import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0011_refund_reasons"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DisputeEvidenceFile",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("kind", models.CharField(choices=[("receipt", "Receipt"),
                                                   ("shipping_documentation", "Proof of shipping"),
                                                   ("customer_communication", "Messages with the buyer"),
                                                   ("uncategorized_file", "Other document")], max_length=40)),
                ("stripe_file_id", models.CharField(max_length=64, unique=True)),
                ("name", models.CharField(max_length=255)),
                ("size", models.PositiveIntegerField()),
                ("file_type", models.CharField(max_length=8)),
                ("sha256", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("replaced_at", models.DateTimeField(blank=True, null=True)),
                ("dispute", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                              related_name="evidence_files", to="payments.dispute")),
                ("uploaded_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                  related_name="dispute_evidence_files",
                                                  to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["kind", "-created_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("replaced_at__isnull", True)),
                                            fields=("dispute", "kind"),
                                            name="dispute_evidence_file_one_current_per_kind"),
                    models.CheckConstraint(condition=models.Q(("size__gt", 0)),
                                           name="dispute_evidence_file_not_empty"),
                ],
            },
        ),
    ]
