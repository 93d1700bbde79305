"""Deliveries that must be recorded and answered 2xx without being applied, and the ones that
must stay failed for a retry (issue 12, item 3), through the sandbox and the real views."""

import pytest
from djstripe.models import WebhookEventTrigger

from payments.models import AuditEvent, Order, OrderStatus
from payments.tests import webhook_support
from payments.tests.webhook_support import pay, sandbox_order, sandbox_seller

pytestmark = pytest.mark.django_db


# The shared fixture; bound here (not imported by name) so tests can take it as an argument.
webhooks = webhook_support.webhooks_flush


def trigger_of(event_id):
    return WebhookEventTrigger.objects.filter(body__contains=event_id).latest("pk")


def test_a_test_mode_event_on_a_live_endpoint_is_recorded_answered_2xx_and_not_applied(
        stripe_sandbox, webhooks, settings):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    settings.STRIPE_LIVE_MODE = True  # a live deployment; the sandbox's events are livemode=false

    assert webhooks() == []

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    [succeeded] = stripe_sandbox.events(type="payment_intent.succeeded")
    row = AuditEvent.objects.get(action="webhook.not_applied", stripe_event_id=succeeded["id"])
    assert row.data["reason"] == "livemode_mismatch"
    trigger = trigger_of(succeeded["id"])
    assert trigger.processed and trigger.exception.startswith("not applied: livemode_mismatch")


def test_an_event_whose_object_stripe_no_longer_has_is_recorded_audited_and_answered_2xx(
        stripe_sandbox, webhooks):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    stripe_sandbox.forget(order.payment_intent_id)  # Stripe answers resource_missing from now on

    assert webhooks() == []

    [succeeded] = stripe_sandbox.events(type="payment_intent.succeeded")
    row = AuditEvent.objects.get(action="webhook.not_applied", stripe_event_id=succeeded["id"])
    assert row.data["reason"] == "resource_missing"
    assert trigger_of(succeeded["id"]).processed
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT


def test_stripe_answering_5xx_on_the_refetch_stays_a_failure_for_a_retry(stripe_sandbox, webhooks):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    stripe_sandbox.fail_next(f"/v1/payment_intents/{order.payment_intent_id}", status=500, times=1000,
                             method="GET")

    webhooks()

    [succeeded] = stripe_sandbox.events(type="payment_intent.succeeded")
    trigger = trigger_of(succeeded["id"])
    assert not trigger.processed
    assert "not applied" not in trigger.exception
    assert not AuditEvent.objects.filter(action="webhook.not_applied",
                                         stripe_event_id=succeeded["id"]).exists()

    stripe_sandbox.clear_faults()
    stripe_sandbox.send_event(succeeded["id"])  # Stripe's retry, once Stripe is well again
    assert webhooks() == []
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_a_connect_delivery_names_its_account_on_the_trigger(stripe_sandbox, webhooks):
    seller = sandbox_seller(stripe_sandbox)
    order = sandbox_order(stripe_sandbox, seller=seller)
    pay(order)

    assert webhooks() == []

    [succeeded] = stripe_sandbox.events(type="payment_intent.succeeded")
    assert trigger_of(succeeded["id"]).stripe_trigger_account_id == seller.stripe_account_id
