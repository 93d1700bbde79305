"""The checkout's round trips that are bookkeeping, not the sale (docs/performance.md, Checkout):

- the idempotency key of a Stripe call is one query once the process knows its prefix (the
  prefix's row and the count of Stripe's 5xx answers read together), and still moves on after a
  5xx only: a timeout (no status) or a 4xx keeps it; a reset database still gets a new prefix;
- the listing's hold is taken inside the checkout's transaction without a savepoint of its own,
  and a refusal still leaves nothing behind.
"""

import json
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from djstripe.models import IdempotencyKey

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.services import ListingUnavailable, listing_reserve_in_transaction
from marketplace.tests.factories import ListingFactory
from payments.idempotency import PREFIX_ACTION, idempotency_prefix, order_idempotency_key
from payments.models import AuditEvent, Order
from payments.services.checkout import checkout_order_open
from payments.tests.factories import OrderFactory, sandbox_seller_onboarded, shipping_address

CREATE = "payment_intent-create"
SAVEPOINT = re.compile(r"\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.IGNORECASE)


def stripe_answer(order, status):
    AuditEvent.objects.create(order=order, action="stripe.payment_intent.create",
                              data={"http_status": status})


@pytest.mark.django_db
def test_the_key_is_one_query_once_the_prefix_is_known():
    order = OrderFactory(payment_intent_id="")
    first = order_idempotency_key(order=order, operation=CREATE)  # makes the prefix

    with CaptureQueriesContext(connection) as captured:
        again = order_idempotency_key(order=order, operation=CREATE)

    assert again == first == f"{idempotency_prefix()}-order-{order.pk}-{CREATE}"
    assert len(captured.captured_queries) == 1


@pytest.mark.django_db
def test_only_stripe_5xx_answers_move_the_attempt_on():
    order = OrderFactory(payment_intent_id="")
    key = order_idempotency_key(order=order, operation=CREATE)
    for status in (None, 402, 404, 429):  # a timeout, refusals: the same key again
        stripe_answer(order, status)
    AuditEvent.objects.create(order=order, action="stripe.payment_intent.create", data={})
    assert order_idempotency_key(order=order, operation=CREATE) == key

    stripe_answer(order, 500)
    stripe_answer(order, 503)
    assert order_idempotency_key(order=order, operation=CREATE) == f"{key}-attempt-3"
    # Another call's or another order's failures are not this key's.
    other = OrderFactory(payment_intent_id="")
    stripe_answer(other, 500)
    AuditEvent.objects.create(order=order, action="stripe.payment_intent.cancel", data={"http_status": 500})
    assert order_idempotency_key(order=order, operation=CREATE) == f"{key}-attempt-3"
    assert order_idempotency_key(order=order, operation="payment_intent-cancel").endswith("-attempt-2")


@pytest.mark.django_db
def test_a_database_reset_under_a_running_process_still_gets_a_new_prefix():
    order = OrderFactory(payment_intent_id="")
    stripe_answer(order, 500)
    before = order_idempotency_key(order=order, operation=CREATE)

    IdempotencyKey.objects.filter(action=PREFIX_ACTION).delete()
    after = order_idempotency_key(order=order, operation=CREATE)

    assert before != after
    assert after == f"{idempotency_prefix()}-order-{order.pk}-{CREATE}-attempt-2"
    assert IdempotencyKey.objects.filter(action=PREFIX_ACTION).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_checkout_transaction_holds_the_listing_without_a_savepoint(stripe_sandbox):
    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox), price_cents=4000)
    buyer = UserFactory()

    with CaptureQueriesContext(connection) as captured:
        order, created = checkout_order_open(listing_id=listing.pk, buyer=buyer, shipping=shipping_address())

    assert created and order.amount_cents == 4000
    assert [q["sql"] for q in captured.captured_queries if SAVEPOINT.match(q["sql"])] == []
    listing.refresh_from_db()
    assert listing.status == ListingStatus.RESERVED and listing.reserved_by_id == buyer.pk


@pytest.mark.django_db(transaction=True)
def test_a_refused_hold_leaves_no_order_and_the_connection_usable(stripe_sandbox):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    listing = ListingFactory(seller=seller, price_cents=4000)
    holder = UserFactory()
    checkout_order_open(listing_id=listing.pk, buyer=holder, shipping=shipping_address())

    for buyer in (seller, UserFactory()):  # the seller's own stub; held by someone else
        with pytest.raises(ListingUnavailable):
            checkout_order_open(listing_id=listing.pk, buyer=buyer, shipping=shipping_address())

    assert list(Order.objects.filter(listing=listing).values_list("buyer_id", flat=True)) == [holder.pk]
    assert Listing.objects.get(pk=listing.pk).reserved_by_id == holder.pk


@pytest.mark.django_db(transaction=True)
def test_the_hold_without_its_own_transaction_is_refused_outside_one():
    listing = ListingFactory()
    with pytest.raises(transaction.TransactionManagementError):
        listing_reserve_in_transaction(listing_id=listing.pk, buyer=UserFactory())
    with transaction.atomic():
        held = listing_reserve_in_transaction(listing_id=listing.pk, buyer=UserFactory())
    assert Listing.objects.get(pk=listing.pk).reserved_by_id == held.reserved_by_id


@pytest.mark.django_db(transaction=True)
def test_the_checkout_route_still_answers_with_the_order(client, stripe_sandbox):
    idempotency_prefix()
    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox), price_cents=4000)
    client.force_login(UserFactory())
    body = {"listing_id": listing.pk, **shipping_address()}

    response = client.post("/payments/create-payment-intent/", data=json.dumps(body),
                           content_type="application/json")

    assert response.status_code == 200
    order = Order.objects.get(listing=listing)
    assert response.json()["order_id"] == order.pk and order.payment_intent_id.startswith("pi_")
