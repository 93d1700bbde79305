"""The buyer's browser opening a checkout, for the tests: `POST /payments/create-payment-intent/`
with a listing and a shipping address (payments/views/checkout.py), and a hold made to lapse."""

import datetime
import json

from django.utils import timezone

from marketplace.models import Listing
from payments.models import Order
from payments.tests.factories import shipping_address

CHECKOUT_URL = "/payments/create-payment-intent/"


def checkout_post(client, listing_id, *, buyer=None, **fields):
    """The route's response, whatever it is. `buyer` logs in first; without it the client's own
    session (or none) asks. `fields` override or add to the shipping fields of
    `shipping_address()`."""
    if buyer is not None:
        client.force_login(buyer)
    return client.post(
        CHECKOUT_URL,
        data=json.dumps({"listing_id": listing_id, **shipping_address(**fields)}),
        content_type="application/json",
    )


def checkout_open(client, listing_id, *, buyer=None, **fields) -> dict:
    """A checkout the route opened: its answer (order_id, client_secret, stripe_account)."""
    response = checkout_post(client, listing_id, buyer=buyer, **fields)
    assert response.status_code == 200, response.content
    return response.json()


def checkout_order(client, listing_id, *, buyer=None, **fields) -> Order:
    """The order a checkout the route opened holds the listing for."""
    return Order.objects.get(pk=checkout_open(client, listing_id, buyer=buyer, **fields)["order_id"])


def checkout_lapse(order, *, minutes=1) -> None:
    """The order's hold on its listing ended `minutes` ago (the rows only: nothing released)."""
    past = timezone.now() - datetime.timedelta(minutes=minutes)
    Order.objects.filter(pk=order.pk).update(reserved_until=past)
    Listing.objects.filter(pk=order.listing_id).update(reserved_until=past)
