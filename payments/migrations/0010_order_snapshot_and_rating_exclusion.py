"""Orders keep a snapshot of what was bought; a rating of an order refunded in full or lost in a
dispute is kept but counts in no average.

The data step is best effort. Orders paid before snapshots existed get one built from their stub
as it is now (marked `backfilled`): the seller may have rewritten it since the sale, which is
exactly what snapshots now prevent, so staff should read a backfilled snapshot with that in mind.
Photo files that cannot be read are left out. Ratings of orders already refunded in full or lost
in a dispute are marked excluded and their sellers' averages recounted.
"""

from decimal import ROUND_HALF_UP, Decimal

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Avg, Count
from django.utils import timezone

EXCLUDED_WHEN = {"refunded": "refunded", "dispute_lost": "dispute_lost"}


def snapshots_backfill(apps, schema_editor):
    from payments.services.snapshots import SNAPSHOT_STUB_FIELDS, snapshot_photos_copy

    Order = apps.get_model("payments", "Order")
    OrderSnapshot = apps.get_model("payments", "OrderSnapshot")
    StubPhoto = apps.get_model("marketplace", "StubPhoto")
    now = timezone.now()
    orders = Order.objects.filter(paid_at__isnull=False, snapshot__isnull=True)
    orders = orders.select_related("listing__stub")
    for order in orders.iterator(chunk_size=200):
        stub = order.listing.stub
        names = [(stub.photo.name, stub.thumbnail.name)] if stub.photo else []
        names += [(photo.image.name, photo.thumbnail.name)
                  for photo in StubPhoto.objects.filter(stub=stub).order_by("position", "id") if photo.image]
        OrderSnapshot.objects.create(
            order=order,
            **{name: getattr(stub, name) for name in SNAPSHOT_STUB_FIELDS},
            price_cents=order.amount_cents - order.shipping_cents,
            shipping_cents=order.shipping_cents,
            photos=snapshot_photos_copy(order_id=order.pk, names=names),
            taken_at=now,
            backfilled=True,
        )


def staff_groups_update(apps, schema_editor):
    from payments.staff import staff_groups_ensure

    staff_groups_ensure(apps=apps)  # the groups may view the new snapshots


def ratings_exclude_undone_orders(apps, schema_editor):
    Feedback = apps.get_model("payments", "Feedback")
    SellerRating = apps.get_model("payments", "SellerRating")
    now = timezone.now()
    sellers = set()
    for status, reason in EXCLUDED_WHEN.items():
        undone = Feedback.objects.filter(order__status=status, excluded_reason="")
        sellers.update(undone.values_list("seller_id", flat=True))
        # Only these columns: the feedback guard trigger watches order, buyer and seller.
        undone.update(excluded_reason=reason, excluded_at=now)
    for seller_id in sellers:  # as ratings.services.seller_rating_refresh counts
        totals = Feedback.objects.filter(seller_id=seller_id, hidden=False, excluded_reason="").aggregate(
            count=Count("id"), average=Avg("rating")
        )
        average = Decimal(str(totals["average"] or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        SellerRating.objects.update_or_create(
            seller_id=seller_id, defaults={"count": totals["count"], "average": average}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0009_refund_limits"),
        ("marketplace", "0005_photos_watchlist_saved_searches"),
    ]

    operations = [
        migrations.CreateModel(
            name='OrderSnapshot',
            fields=[
                ('order', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='snapshot', serialize=False, to='payments.order')),
                ('event_name', models.CharField(max_length=200)),
                ('performer', models.CharField(blank=True, max_length=200)),
                ('venue', models.CharField(max_length=200)),
                ('city', models.CharField(max_length=120)),
                ('event_date', models.DateField()),
                ('category', models.CharField(choices=[('concert', 'Concert'), ('sports', 'Sports'), ('theatre', 'Theatre'), ('comedy', 'Comedy'), ('festival', 'Festival'), ('film', 'Film'), ('other', 'Other')], max_length=16)),
                ('condition', models.CharField(choices=[('mint', 'Mint'), ('near_mint', 'Near mint'), ('excellent', 'Excellent'), ('good', 'Good'), ('fair', 'Fair'), ('poor', 'Poor')], max_length=16)),
                ('description', models.TextField(blank=True)),
                ('price_cents', models.PositiveIntegerField()),
                ('shipping_cents', models.PositiveIntegerField(default=0)),
                ('photos', models.JSONField(blank=True, default=list)),
                ('taken_at', models.DateTimeField()),
                ('backfilled', models.BooleanField(default=False)),
            ],
        ),
        migrations.AddField(
            model_name='feedback',
            name='excluded_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='feedback',
            name='excluded_reason',
            field=models.CharField(blank=True, choices=[('refunded', 'Order refunded in full'), ('dispute_lost', 'Dispute lost')], max_length=16),
        ),
        migrations.RunPython(snapshots_backfill, migrations.RunPython.noop),
        migrations.RunPython(ratings_exclude_undone_orders, migrations.RunPython.noop),
        migrations.RunPython(staff_groups_update, migrations.RunPython.noop),
    ]
