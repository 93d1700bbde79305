"""Feedback and SellerRating move here from payments with their tables (payments_feedback,
payments_sellerrating), indexes, constraints and the feedback trigger unchanged: this migration
adds them to the ratings app in the migration state only, and payments 0015 removes them from
payments' state (and moves their content types, so permissions, groups and the admin log follow).
No table is created, renamed or touched."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("payments", "0014_payouts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Feedback",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("rating", models.PositiveSmallIntegerField()),
                        ("comment", models.TextField(blank=True, max_length=1000)),
                        ("reply", models.TextField(blank=True, max_length=1000)),
                        ("replied_at", models.DateTimeField(blank=True, null=True)),
                        ("hidden", models.BooleanField(default=False)),
                        ("hidden_reason", models.CharField(blank=True, max_length=300)),
                        ("excluded_reason", models.CharField(
                            blank=True, choices=[("refunded", "Order refunded in full"), ("dispute_lost", "Dispute lost")],
                            max_length=16)),
                        ("excluded_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("buyer", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                    related_name="feedback_given", to=settings.AUTH_USER_MODEL)),
                        ("order", models.OneToOneField(on_delete=django.db.models.deletion.PROTECT,
                                                       related_name="feedback", to="payments.order")),
                        ("seller", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                     related_name="feedback_received", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "payments_feedback",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["seller", "hidden", "-created_at"], name="feedback_seller_idx")],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("rating__gte", 1), ("rating__lte", 5)),
                                                   name="feedback_rating_1_to_5"),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("replied_at__isnull", True), ("reply", "")),
                                    models.Q(models.Q(("reply", ""), _negated=True), ("replied_at__isnull", False)),
                                    _connector="OR",
                                ),
                                name="feedback_reply_has_time",
                            ),
                            models.CheckConstraint(condition=models.Q(("buyer", models.F("seller")), _negated=True),
                                                   name="feedback_not_about_oneself"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SellerRating",
                    fields=[
                        ("seller", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                                        related_name="rating_summary", serialize=False,
                                                        to=settings.AUTH_USER_MODEL)),
                        ("count", models.PositiveIntegerField(default=0)),
                        ("average", models.DecimalField(decimal_places=2, default=0, max_digits=3)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "db_table": "payments_sellerrating",
                        "indexes": [models.Index(fields=["average", "count"], name="sellerrating_average_idx")],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("average", 0), ("count", 0)),
                                    models.Q(("average__gte", 1), ("average__lte", 5), ("count__gt", 0)),
                                    _connector="OR",
                                ),
                                name="sellerrating_average_in_range",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
