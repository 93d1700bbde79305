"""Migration 0010's snapshot step, run against today's models: paid orders from before snapshots
get one (marked backfilled, photos copied), unpaid ones none. Its ratings step is tested with
the ratings app (ratings/tests/test_rating_exclusion_backfill.py)."""

import importlib

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from marketplace.tests.images import image_bytes
from payments.models import OrderSnapshot
from payments.tests.factories import OrderFactory, PaidOrderFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("payments.migrations.0010_order_snapshot_and_rating_exclusion")


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
