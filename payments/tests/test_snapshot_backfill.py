"""Migration 0010's data steps, run against today's models: paid orders from before snapshots get
one (marked backfilled, photos copied), unpaid ones none; ratings of orders already refunded in
full lose their place in the average."""

import importlib

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from marketplace.tests.images import image_bytes
from payments.models import Feedback, FeedbackExclusion, OrderSnapshot, OrderStatus, SellerRating
from payments.services.feedback import feedback_leave
from payments.tests.factories import OrderFactory, PaidOrderFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("payments.migrations.0010_order_snapshot_and_rating_exclusion")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_orders_paid_before_snapshots_get_one_from_the_stub_as_it_is_now():
    paid = PaidOrderFactory()
    stub = paid.listing.stub
    stub.photo = default_storage.save("stubs/cover.jpg", ContentFile(image_bytes()))
    stub.thumbnail = default_storage.save("stubs/thumbs/cover.jpg", ContentFile(image_bytes()))
    stub.save()
    unpaid = OrderFactory()

    migration.snapshots_backfill(apps, None)

    snapshot = OrderSnapshot.objects.get(order=paid)
    assert snapshot.backfilled and snapshot.description == stub.description
    assert snapshot.price_cents == paid.amount_cents - paid.shipping_cents
    assert [default_storage.exists(photo["image"]) for photo in snapshot.photos] == [True]
    assert not OrderSnapshot.objects.filter(order=unpaid).exists()


def test_ratings_of_orders_already_refunded_in_full_are_excluded():
    order = PaidOrderFactory(status=OrderStatus.COMPLETED)
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=5)
    kept = PaidOrderFactory(status=OrderStatus.COMPLETED, listing__seller=order.seller)
    feedback_leave(order_id=kept.pk, buyer=kept.buyer, rating=2)
    # Refunded before this change: nothing followed the order then.
    type(order).objects.filter(pk=order.pk).update(status=OrderStatus.REFUNDED)

    migration.ratings_exclude_undone_orders(apps, None)

    assert Feedback.objects.get(order=order).excluded_reason == FeedbackExclusion.REFUNDED
    summary = SellerRating.objects.get(seller=order.seller)
    assert (summary.count, summary.average) == (1, 2)
