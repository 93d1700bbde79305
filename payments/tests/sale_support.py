"""Sales for the sold-price history's tests: an order on a listing of a stub with the given facts,
in the given status, with the snapshot a paid order has (payments.services.snapshots), its sale
counted in its groups' summaries."""

import datetime

from django.utils import timezone

from marketplace.tests.factories import ListingFactory
from payments.models import OrderSnapshot, OrderStatus
from payments.selectors.sold_prices import sale_groups
from payments.services.sold_prices import sold_price_summaries_count
from payments.tests.factories import OrderFactory


def sale(
    *,
    price_cents: int,
    performer: str = "Prince",
    event_name: str = "Purple Rain Tour",
    event_date: datetime.date = datetime.date(1985, 3, 1),
    status: str = OrderStatus.COMPLETED,
    paid_on: datetime.date = datetime.date(2026, 11, 1),
    **order_fields,
):
    listing = ListingFactory(
        stub__performer=performer,
        stub__event_name=event_name,
        stub__event_date=event_date,
        price_cents=price_cents,
    )
    order = OrderFactory(listing=listing, status=status, **order_fields)
    stub = listing.stub
    OrderSnapshot.objects.create(
        order=order,
        event_name=event_name,
        performer=performer,
        venue=stub.venue,
        city=stub.city,
        event_date=event_date,
        category=stub.category,
        condition=stub.condition,
        price_cents=price_cents,
        taken_at=timezone.make_aware(datetime.datetime.combine(paid_on, datetime.time(15, 42, 7))),
        completed_sale=status == OrderStatus.COMPLETED,  # as order_transition keeps it
    )
    # As order_transition does when an order completes: the sale's groups are counted again.
    sold_price_summaries_count(
        groups=sale_groups(performer=performer, event_name=event_name, event_date=event_date)
    )
    return order
