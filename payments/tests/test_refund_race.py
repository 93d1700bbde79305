"""Parallel refund clicks on PostgreSQL: one refund, whatever the timing.

Six requests for the same amount arrive together through the real route (each thread its own
connection), while the webhooks of the first one land in between. Before the Refund rows, the
idempotency key included the refunded total, which the webhook changed between clicks: two $5
refunds were made. Now the row is created under the order's lock before Stripe is called, so the
later clicks find it (same user, order and amount within 60 s) and nothing is sent twice.
"""

import pytest
from django.test import Client

from payments.models import OrderStatus, Refund
from payments.tests.webhook_support import deliver, endpoints_register, pay, sandbox_order
from testing.threads import run_at_once

# Row locks: PostgreSQL only (the root conftest skips these elsewhere).
pytestmark = pytest.mark.postgres

CLICKS = 6


def in_parallel(count, work):
    """work(0) ... work(count - 1) at once; an exception (a 500 in real life) comes back as its repr."""
    results = run_at_once([lambda index=index: work(index) for index in range(count)])
    return [repr(result) if isinstance(result, Exception) else result for result in results]


def test_six_parallel_clicks_for_the_same_amount_make_one_refund(
    transactional_db, stripe_sandbox
):
    endpoints_register(stripe_sandbox, Client())
    order = sandbox_order(stripe_sandbox)
    pay(order)
    deliver(stripe_sandbox)

    def click(index):
        client = Client()
        client.force_login(order.seller)
        response = client.post(
            f"/payments/orders/{order.pk}/refund/", {"amount": 500}, content_type="application/json"
        )
        if index == 0:
            stripe_sandbox.flush_deliveries()  # the first click's webhooks land mid-race
        return response.status_code, response.json().get("id")

    results = in_parallel(CLICKS, click)
    deliver(stripe_sandbox)

    assert all(isinstance(result, tuple) for result in results), results
    assert {status for status, _ in results} == {201}, results
    assert len({refund_id for _, refund_id in results}) == 1
    assert Refund.objects.count() == 1
    refunds = [
        e
        for e in stripe_sandbox.events(type="refund.created")
        if e["data"]["object"]["payment_intent"] == order.payment_intent_id
    ]
    assert len(refunds) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert order.payment.amount_refunded_cents == 500


def test_parallel_full_refunds_by_seller_and_staff_never_refund_more_than_was_paid(
    transactional_db, stripe_sandbox
):
    from accounts.tests.factories import UserFactory

    endpoints_register(stripe_sandbox, Client())
    order = sandbox_order(stripe_sandbox)
    pay(order)
    deliver(stripe_sandbox)
    people = [order.seller, UserFactory(is_staff=True, is_superuser=True)] * 3

    def click(index):
        client = Client()
        client.force_login(people[index])
        return client.post(
            f"/payments/orders/{order.pk}/refund/", {}, content_type="application/json"
        ).status_code

    results = in_parallel(len(people), click)
    deliver(stripe_sandbox)

    assert set(results) <= {201, 409}, results
    refunded = sum(
        e["data"]["object"]["amount"]
        for e in stripe_sandbox.events(type="refund.created")
        if e["data"]["object"]["payment_intent"] == order.payment_intent_id
    )
    assert refunded == order.amount_cents
