"""Payments migration 0010's ratings step, run on today's database through the models as they
were at that migration (Feedback and SellerRating were payments' then; the tables are the same):
ratings of orders already refunded in full lose their place in the average."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from payments.models import OrderStatus
from payments.tests.factories import PaidOrderFactory
from ratings.models import Feedback, FeedbackExclusion, SellerRating
from ratings.services import feedback_leave

pytestmark = pytest.mark.django_db

MIGRATION = "0010_order_snapshot_and_rating_exclusion"
migration = importlib.import_module(f"payments.migrations.{MIGRATION}")


@pytest.fixture
def apps_at_0010(settings):
    # The test run skips migrations (pytest-django's --no-migrations hides every app's): the
    # loader needs them back to build the models as they were.
    settings.MIGRATION_MODULES = {}
    return MigrationLoader(connection).project_state(("payments", MIGRATION)).apps


def test_ratings_of_orders_already_refunded_in_full_are_excluded(apps_at_0010):
    order = PaidOrderFactory(status=OrderStatus.COMPLETED)
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=5)
    kept = PaidOrderFactory(status=OrderStatus.COMPLETED, listing__seller=order.seller)
    feedback_leave(order_id=kept.pk, buyer=kept.buyer, rating=2)
    # Refunded before this change: nothing followed the order then.
    type(order).objects.filter(pk=order.pk).update(status=OrderStatus.REFUNDED)

    migration.ratings_exclude_undone_orders(apps_at_0010, None)

    assert Feedback.objects.get(order=order).excluded_reason == FeedbackExclusion.REFUNDED
    summary = SellerRating.objects.get(seller=order.seller)
    assert (summary.count, summary.average) == (1, 2)
