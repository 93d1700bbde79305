"""The same events delivered at the same time, from several threads (PostgreSQL: real row locks).

SQLite serialises every writer, so these only mean something on PostgreSQL (`make
test-postgres`); elsewhere they are skipped.
"""


import pytest
from django.test import Client
from djstripe import models as djstripe_models

from payments.models import AuditEvent, OrderStatus, Payment
from payments.tests.webhook_support import CONNECT_PATH, pay, post_event, sandbox_order
from testing.threads import run_at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def deliver_concurrently(events: list[dict], copies: int) -> list:
    """POST each event `copies` times, all at once, from separate threads and connections: the
    statuses (or what a thread raised), in no particular order."""
    def send(event):
        client = Client()
        return lambda: post_event(client, event, path=CONNECT_PATH).status_code

    return run_at_once([send(event) for event in events for _ in range(copies)])


def test_one_success_event_delivered_eight_times_at_once_pays_the_order_once(stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    (event,) = stripe_sandbox.events(type="payment_intent.succeeded")

    statuses = deliver_concurrently([event], copies=8)

    assert statuses == [200] * 8
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.filter(order=order).count() == 1
    assert list(AuditEvent.objects.filter(order=order, action="order.transition").order_by("id")
                .values_list("to_status", flat=True)) == ["paid"]
    assert djstripe_models.Event.objects.filter(id=event["id"]).count() == 1
    assert djstripe_models.WebhookEventTrigger.objects.filter(processed=True).count() == 8


def test_a_success_and_a_refund_racing_each_other_end_refunded_once(stripe_sandbox):
    from payments import stripe_api

    order = sandbox_order(stripe_sandbox)
    pay(order)
    stripe_api.refund_create(order=order, amount_cents=order.amount_cents, idempotency_key="race-full")
    (succeeded,) = stripe_sandbox.events(type="payment_intent.succeeded")
    (refunded,) = stripe_sandbox.events(type="charge.refunded")

    statuses = deliver_concurrently([succeeded, refunded], copies=3)

    assert statuses == [200] * 6
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.payment.amount_refunded_cents == order.amount_cents
    assert order.payment.fee_refunded_cents == order.application_fee_cents
    assert list(AuditEvent.objects.filter(order=order, action="order.transition").order_by("id")
                .values_list("to_status", flat=True)) == ["paid", "refunded"]
