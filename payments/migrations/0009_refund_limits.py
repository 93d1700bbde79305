import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def groups_see_refund_approvals(apps, schema_editor):
    from payments.staff import staff_groups_ensure

    staff_groups_ensure(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0008_inquiries_and_fraud_warnings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="by_support",
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name="RefundApproval",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("amount_cents", models.PositiveIntegerField()),
                (
                    "reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("requested_by_customer", "Requested by customer"),
                            ("duplicate", "Duplicate"),
                            ("fraudulent", "Fraudulent"),
                        ],
                        max_length=32,
                    ),
                ),
                (
                    "note",
                    models.TextField(blank=True, help_text="Internal note for staff; never sent to Stripe."),
                ),
                ("why", models.CharField(help_text="Which of Support's limits it is above.", max_length=300)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Waiting for Finance"),
                            ("approved", "Approved"),
                            ("declined", "Declined"),
                        ],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("request_token", models.CharField(blank=True, default="", max_length=64)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="refund_approvals_decided",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refund_approvals",
                        to="payments.order",
                    ),
                ),
                (
                    "refund",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="approval",
                        to="payments.refund",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="refund_approvals_asked",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount_cents__gt", 0)), name="refund_approval_amount_positive"
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("request_token", ""), _negated=True),
                        fields=("order", "requested_by", "request_token"),
                        name="refund_approval_unique_request_token",
                    ),
                ],
            },
        ),
        # Support and Finance see Finance's to-do list of refund requests (payments.staff).
        migrations.RunPython(groups_see_refund_approvals, migrations.RunPython.noop),
    ]
