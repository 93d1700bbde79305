"""An order's copies of its stub's photos (payments/services/snapshots.py) on S3, against moto's
server (testing/s3.py): they are made in the bucket, readable by the URL the order page shows, and
a bucket that does not answer while the payment is recorded leaves them out, never the sale."""

import urllib.request

import pytest

from payments.models import OrderSnapshot, OrderStatus
from payments.tests.test_order_snapshot import bought, stored
from payments.tests.webhook_support import deliver, pay, sandbox_order
from testing.s3 import s3_media, s3_outage, s3_server  # noqa: F401 (fixtures, taken by name below)

pytestmark = pytest.mark.django_db


def test_the_orders_photo_copies_are_made_in_the_bucket_and_its_page_links_them(
    request, client, webhook_sandbox
):
    bucket = request.getfixturevalue("s3_media")

    order = bought(webhook_sandbox)

    copies = {
        photo[key]
        for photo in OrderSnapshot.objects.get(order=order).photos
        for key in ("image", "thumbnail")
    }
    assert len(copies) == 4 and copies <= bucket.keys("orders/")
    client.force_login(order.buyer)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    for name in copies:
        url = f"{bucket.endpoint_url}/{bucket.name}/{name}"
        assert url in page
        with urllib.request.urlopen(url, timeout=10) as response:  # no credentials: the page's own link
            assert response.status == 200 and response.read() == bucket.read(name)


def test_a_bucket_that_does_not_answer_leaves_the_copies_out_and_the_sale_stands(
    request, settings, webhook_sandbox
):
    request.getfixturevalue("s3_media")
    order = sandbox_order(webhook_sandbox)
    stub = order.listing.stub
    stub.photo, stub.thumbnail = stored("stubs/cover.jpg"), stored("stubs/thumbs/cover.jpg")
    stub.save()
    s3_outage(settings)

    pay(order, "pm_card_visa")
    deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert OrderSnapshot.objects.get(order=order).photos == []
