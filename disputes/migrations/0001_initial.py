import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Dispute and DisputeEvidenceFile, moved from payments with their tables, indexes and
    constraints as they are: this migration changes the migration state only, and
    payments/migrations/0016_disputes_moved_out.py removes them from payments' state and hands
    their content types (and so their permissions, group grants and admin log) to this app."""

    initial = True

    dependencies = [
        ("payments", "0015_ratings_moved_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Dispute",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("stripe_dispute_id", models.CharField(max_length=64, unique=True)),
                        ("stripe_account_id", models.CharField(max_length=64)),
                        ("charge_id", models.CharField(blank=True, max_length=64)),
                        ("amount_cents", models.PositiveIntegerField()),
                        ("currency", models.CharField(default="usd", max_length=3)),
                        ("reason", models.CharField(blank=True, max_length=40)),
                        ("status", models.CharField(choices=[
                            ("warning_needs_response", "Inquiry: needs response"),
                            ("warning_under_review", "Inquiry: under review"),
                            ("warning_closed", "Inquiry: closed without a chargeback"),
                            ("needs_response", "Needs response"), ("under_review", "Under review"),
                            ("won", "Won"), ("lost", "Lost"), ("prevented", "Prevented"),
                        ], db_index=True, max_length=32)),
                        ("evidence_due_by", models.DateTimeField(blank=True, db_index=True, null=True)),
                        ("is_inquiry", models.BooleanField(default=False)),
                        ("charge_refundable", models.BooleanField(default=False)),
                        ("submission_count", models.PositiveSmallIntegerField(default=0)),
                        ("seller_note", models.TextField(blank=True)),
                        ("seller_tracking_number", models.CharField(blank=True, max_length=100)),
                        ("seller_note_at", models.DateTimeField(blank=True, null=True)),
                        ("evidence_draft", models.JSONField(blank=True, default=dict)),
                        ("submitted_at", models.DateTimeField(blank=True, null=True)),
                        ("accepted_at", models.DateTimeField(blank=True, null=True)),
                        ("outcome", models.CharField(blank=True, max_length=32)),
                        ("closed_at", models.DateTimeField(blank=True, null=True)),
                        ("stripe_created", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("order", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                    related_name="disputes", to="payments.order")),
                    ],
                    options={
                        "db_table": "payments_dispute",
                        "ordering": ["-stripe_created", "-id"],
                        "permissions": [("respond_dispute", "Can respond to disputes")],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("amount_cents__gt", 0)),
                                                   name="dispute_amount_positive"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="DisputeEvidenceFile",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("kind", models.CharField(choices=[
                            ("receipt", "Receipt"), ("shipping_documentation", "Proof of shipping"),
                            ("customer_communication", "Messages with the buyer"),
                            ("uncategorized_file", "Other document"),
                        ], max_length=40)),
                        ("stripe_file_id", models.CharField(max_length=64, unique=True)),
                        ("name", models.CharField(max_length=255)),
                        ("size", models.PositiveIntegerField()),
                        ("file_type", models.CharField(max_length=8)),
                        ("sha256", models.CharField(max_length=64)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("replaced_at", models.DateTimeField(blank=True, null=True)),
                        ("dispute", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                      related_name="evidence_files", to="disputes.dispute")),
                        ("uploaded_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                          related_name="dispute_evidence_files",
                                                          to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "payments_disputeevidencefile",
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
            ],
            database_operations=[],
        ),
    ]
