"""What the buyer bought is frozen when the payment succeeds (through the real webhook and the
sandbox): the order pages and admin show it, whatever the stub says later (and so does the dispute
evidence: disputes/tests/test_dispute_evidence_snapshot.py)."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.tests.factories import UserFactory
from marketplace.models import Condition, Stub, StubPhoto
from marketplace.tests.images import image_bytes
from payments.models import OrderSnapshot, OrderStatus
from payments.staff import SUPPORT, staff_groups_ensure
from payments.tests.webhook_support import deliver, pay, sandbox_order

pytestmark = pytest.mark.django_db


SOLD_DESCRIPTION = "Torn at the left edge, a coffee ring on the back."


def stored(name: str, colour=(200, 80, 40)) -> str:
    return default_storage.save(name, ContentFile(image_bytes(colour=colour)))


def bought(sandbox, card="pm_card_visa"):
    """An order for a stub with a cover and one more photo, paid and delivered."""
    order = sandbox_order(sandbox)
    stub = order.listing.stub
    stub.description, stub.condition = SOLD_DESCRIPTION, Condition.FAIR
    stub.photo, stub.thumbnail = stored("stubs/cover.jpg"), stored("stubs/thumbs/cover.jpg")
    stub.save()
    StubPhoto.objects.create(stub=stub, position=1, image=stored("stubs/back.jpg", (10, 10, 10)),
                             thumbnail=stored("stubs/thumbs/back.jpg", (10, 10, 10)))
    pay(order, card)
    deliver(sandbox)
    order.refresh_from_db()
    return order


def rewrite(stub):
    """What a seller could do once the stub is back on sale (or before this change, at any time)."""
    Stub.objects.filter(pk=stub.pk).update(
        event_name="Something else entirely", condition=Condition.MINT,
        description="Pristine, never handled.",
    )
    for name in (stub.photo.name, stub.thumbnail.name):
        default_storage.delete(name)


def test_the_payment_webhook_freezes_the_stub_its_price_and_copies_of_its_photos(webhook_sandbox):
    order = bought(webhook_sandbox)
    stub = order.listing.stub

    snapshot = OrderSnapshot.objects.get(order=order)

    assert order.status == OrderStatus.PAID
    assert (snapshot.event_name, snapshot.description, snapshot.condition) == (
        stub.event_name, SOLD_DESCRIPTION, Condition.FAIR
    )
    assert (snapshot.price_cents, snapshot.shipping_cents, snapshot.backfilled) == (5000, 0, False)
    assert len(snapshot.photos) == 2
    back = StubPhoto.objects.values_list("image", "thumbnail").get()
    sources = [stub.photo.name, stub.thumbnail.name, *back]
    copies = [photo[key] for photo in snapshot.photos for key in ("image", "thumbnail")]
    assert all(name.startswith(f"orders/{order.pk}/") for name in copies)
    for source, copy in zip(sources, copies, strict=True):
        assert default_storage.open(copy).read() == default_storage.open(source).read()

    rewrite(stub)

    assert all(default_storage.exists(name) for name in copies)  # the order's own files


def test_the_order_pages_show_the_stub_as_sold_after_the_seller_rewrites_it(client, webhook_sandbox):
    order = bought(webhook_sandbox)
    sold_name = order.listing.stub.event_name
    rewrite(order.listing.stub)

    for user in (order.buyer, order.seller):
        client.force_login(user)
        page = client.get(f"/orders/{order.pk}/").content.decode()
        assert sold_name in page and SOLD_DESCRIPTION in page and "Fair" in page, user
        assert "Something else entirely" not in page and "Pristine, never handled." not in page, user
        assert f"/media/orders/{order.pk}/" in page, user


def test_staff_see_the_snapshot_beside_the_live_listing_in_admin(client, webhook_sandbox):
    order = bought(webhook_sandbox)
    sold_name = order.listing.stub.event_name
    rewrite(order.listing.stub)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(f"/admin/payments/order/{order.pk}/change/").content.decode()

    assert "What was sold (snapshot at payment)" in page
    assert sold_name in page and SOLD_DESCRIPTION in page and f"/media/orders/{order.pk}/" in page


def test_support_staff_see_the_snapshot_too(client, webhook_sandbox):
    order = bought(webhook_sandbox)
    staff_groups_ensure()
    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(support)

    page = client.get(f"/admin/payments/order/{order.pk}/change/").content.decode()

    assert "What was sold (snapshot at payment)" in page and SOLD_DESCRIPTION in page
