"""What the buyer bought, frozen when the payment succeeds.

The seller cannot change a sold stub (marketplace.services.listing_content_change_check), but a
refunded stub goes back on sale and can be rewritten then; the order keeps its own copy of the
facts and of the photo files, so its page and its dispute evidence always show what was paid for.
"""

import logging
import posixpath
import secrets

from django.core.files.storage import default_storage
from django.utils import timezone

from core.storage import StorageUnavailable, storage_errors
from marketplace.photos import stub_gallery
from payments.models import Order, OrderSnapshot, OrderStatus

logger = logging.getLogger(__name__)

SNAPSHOT_STUB_FIELDS = (
    "event_name", "performer", "venue", "city", "event_date", "category", "condition", "description",
)


def snapshot_photos_copy(
    *, order_id: int, names: list[tuple[str, str]], storage=default_storage
) -> list[dict]:
    """Copy each (image, thumbnail) pair to files of the order's own, under orders/<id>/ with an
    unguessable prefix. A file that cannot be read is left out (logged): the sale stands."""
    copies = []
    for image, thumbnail in names:
        copy = {}
        for key, name in (("image", image), ("thumbnail", thumbnail or image)):
            if not name:
                break
            try:
                with storage_errors("copying a photo into a snapshot"), storage.open(name, "rb") as source:
                    target = f"orders/{order_id}/{secrets.token_hex(8)}-{posixpath.basename(name)}"
                    copy[key] = storage.save(target, source)
            except (FileNotFoundError, StorageUnavailable):  # the file is gone, or S3 did not answer
                logger.warning("Order #%s: photo %s could not be copied into its snapshot", order_id, name)
                break
        if len(copy) == 2:
            copies.append(copy)
    return copies


def order_snapshot_take(*, order: Order, now=None) -> OrderSnapshot:
    """Freeze the order's stub as it is now; the first snapshot stays (idempotent).

    Called with the listing locked (payment_events._honour), so no edit or photo change can
    run meanwhile. The files are copied inside the webhook's transaction: if it rolls back they
    are orphans, never a snapshot pointing at files that do not exist.
    """
    existing = OrderSnapshot.objects.filter(order=order).first()
    if existing is not None:
        return existing
    listing = order.listing
    stub = listing.stub
    gallery = stub_gallery(stub=stub)
    photos = snapshot_photos_copy(
        order_id=order.pk, names=[(slot["image"].name, slot["thumbnail"].name) for slot in gallery]
    )
    return OrderSnapshot.objects.create(
        order=order,
        **{name: getattr(stub, name) for name in SNAPSHOT_STUB_FIELDS},
        price_cents=order.amount_cents - order.shipping_cents,
        shipping_cents=order.shipping_cents,
        photos=photos,
        taken_at=now or timezone.now(),
        completed_sale=order.status == OrderStatus.COMPLETED,  # taken at payment: not yet
    )


def order_item(*, order: Order):
    """What the order pages and the dispute evidence describe: the snapshot once paid, the live
    stub before (an unpaid order has bought nothing yet)."""
    try:
        return order.snapshot
    except OrderSnapshot.DoesNotExist:
        return order.listing.stub
