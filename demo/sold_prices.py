"""Demo sold-price history (seed_demo): completed sales of the demo's most listed events, so the
listing pages and search results of the stubs still on sale show what stubs like them sold for
(payments.selectors.sold_prices).

Each sale is a listing of its own, bought as the demo's other orders are (demo.orders: a real
sandbox payment staff can refund), shipped and confirmed through order_transition, then dated back
over the last three months: the payment, shipping and receipt times of the order and its
snapshot's date move together, so the chart spreads its bars as a real history would.
"""

import datetime
import random
from collections import Counter

from django.db import transaction
from django.utils import timezone

from core.errors import DomainError
from demo.catalogue import DEMO_TRACKING, EVENTS, create_demo_listing, demo_stub
from demo.orders import demo_order_pay
from payments.models import Order, OrderSnapshot, OrderStatus
from payments.services.orders import order_transition

POPULAR_EVENTS = 3
SALES_PER_EVENT = 6
DAYS_BETWEEN_SALES = 12


def _popular_events(listings) -> list:
    """The curated events the most listings on sale are of, most first (ties: first listed)."""
    counts = Counter(
        (listing.stub.category, listing.stub.event_name, listing.stub.event_date)
        for listing in listings
        if listing.seller.can_accept_payments
    )
    popular = []
    for (category, name, date), _count in counts.most_common(POPULAR_EVENTS):
        index = next(
            i for i, event in enumerate(EVENTS[category]) if (event.event_name, event.date) == (name, date)
        )
        popular.append((category, index))
    return popular


def create_demo_sales_history(*, listings, buyers, rng: random.Random, log=None) -> list[Order]:
    """SALES_PER_EVENT completed sales of each of the POPULAR_EVENTS events most of `listings` are
    of, each sold by the seller of one of those listings to one of `buyers`. Stops, saying why
    through `log`, when Stripe does not answer."""
    now = timezone.now()
    sellers = {}
    for listing in listings:
        if listing.seller.can_accept_payments:
            sellers.setdefault((listing.stub.event_name, listing.stub.event_date), listing.seller)
    orders = []
    for category, index in _popular_events(listings):
        for number in range(SALES_PER_EVENT):
            stub = demo_stub(rng, category, index=index)
            seller = sellers[(stub.event_name, stub.event_date)]
            buyer = buyers[(len(orders)) % len(buyers)]
            listing = create_demo_listing(seller=seller, stub=stub)
            shipping = {
                "shipping_name": buyer.get_full_name() or buyer.username,
                "shipping_line1": f"{rng.randint(2, 990)} Oak Avenue",
                "shipping_city": "Springfield",
                "shipping_state": "IL",
                "shipping_postal_code": "62701",
                "shipping_country": "US",
            }
            try:
                order = demo_order_pay(listing_id=listing.pk, buyer=buyer, shipping=shipping)
            except DomainError as error:
                if log:
                    log(f"Demo sold-price history stops at {len(orders)} sales: {error.message}")
                return orders
            paid_at = now - datetime.timedelta(days=number * DAYS_BETWEEN_SALES + rng.randint(1, 8))
            with transaction.atomic():
                # Dated back before it completes: completing it counts its groups' history
                # (payments.services.sold_prices), dates of the newest sales included.
                OrderSnapshot.objects.filter(order_id=order.pk).update(taken_at=paid_at)
                order.shipping_carrier, order.tracking_number = DEMO_TRACKING[
                    len(orders) % len(DEMO_TRACKING)
                ]
                order.save(update_fields=["shipping_carrier", "tracking_number"])
                order_transition(order=order, to=OrderStatus.SHIPPED, actor=seller, message="Shipped")
                order_transition(
                    order=order, to=OrderStatus.COMPLETED, actor=buyer, message="Buyer confirmed receipt"
                )
                Order.objects.filter(pk=order.pk).update(
                    paid_at=paid_at,
                    shipped_at=paid_at + datetime.timedelta(days=1),
                    completed_at=paid_at + datetime.timedelta(days=4),
                )
            orders.append(order)
    return orders
