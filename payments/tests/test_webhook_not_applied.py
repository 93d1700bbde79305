"""Deliveries that must be recorded and answered 2xx without being applied, and the ones that
must stay failed for a retry, through the sandbox and the real views."""

import json

import pytest
import stripe
from djstripe.models import WebhookEventTrigger

from accounts.tests.factories import UserFactory
from payments.models import AuditEvent, Order, OrderStatus
from payments.services.webhook_guards import webhook_failure_settled
from payments.tests.webhook_support import make_event, pay, sandbox_order, sandbox_seller_onboarded

pytestmark = pytest.mark.django_db


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
    seller = sandbox_seller_onboarded(stripe_sandbox)
    order = sandbox_order(stripe_sandbox, seller=seller)
    pay(order)

    assert webhooks() == []

    [succeeded] = stripe_sandbox.events(type="payment_intent.succeeded")
    assert trigger_of(succeeded["id"]).stripe_trigger_account_id == seller.stripe_account_id


# -- counted by reason in /metrics, listed in admin, resource_missing only for the event's object --

def not_applied_count(reason, event_type):
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value("stubcollector_webhook_deliveries_not_applied_total",
                                      {"type": event_type, "reason": reason})
    return value or 0.0


def metrics_text(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    return client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token").content.decode()


def test_a_delivery_not_applied_for_its_mode_is_counted_by_reason_in_metrics_not_as_processed(
        stripe_sandbox, webhooks, settings, client):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    settings.STRIPE_LIVE_MODE = True
    before = not_applied_count("livemode_mismatch", "payment_intent.succeeded")

    assert webhooks() == []

    assert not_applied_count("livemode_mismatch", "payment_intent.succeeded") == before + 1
    text = metrics_text(client, settings)
    assert ('stubcollector_webhook_deliveries_not_applied_total{reason="livemode_mismatch",'
            'type="payment_intent.succeeded"}') in text
    assert ('stubcollector_webhook_deliveries_total{outcome="not_applied",'
            'type="payment_intent.succeeded"}') in text


def test_a_payment_on_an_account_no_seller_has_is_not_applied_as_an_unknown_account(
        stripe_sandbox, webhooks):
    stranger = stripe_sandbox.create_account()
    intent = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=stranger["id"],
                                         payment_method_types=["card"])
    stripe.PaymentIntent.confirm(intent.id, payment_method="pm_card_visa", stripe_account=stranger["id"])
    before = not_applied_count("unknown_account", "payment_intent.succeeded")

    assert webhooks() == []

    [succeeded] = stripe_sandbox.events(type="payment_intent.succeeded")
    trigger = trigger_of(succeeded["id"])
    assert trigger.processed and trigger.exception.startswith("not applied: unknown_account")
    assert AuditEvent.objects.get(action="webhook.not_applied",
                                  stripe_event_id=succeeded["id"]).data["reason"] == "unknown_account"
    assert not_applied_count("unknown_account", "payment_intent.succeeded") == before + 1


def stripe_missing_error(object_id, account):
    """Stripe's own answer for an object it does not have, through the SDK."""
    try:
        stripe.Charge.retrieve(object_id, stripe_account=account)
    except stripe.InvalidRequestError as error:
        return error
    raise AssertionError("the sandbox found " + object_id)


def stored_trigger(event):
    from payments.services.webhooks import CONNECT, webhook_endpoint_get

    return WebhookEventTrigger.objects.create(
        remote_ip="127.0.0.1", headers={}, body=json.dumps(event), valid=True,
        webhook_endpoint=webhook_endpoint_get(CONNECT))


def test_resource_missing_for_another_object_than_the_events_own_is_a_failure_to_retry(stripe_sandbox):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    event = make_event("charge.dispute.created", {"id": "dp_still_there", "object": "dispute"},
                       account=seller.stripe_account_id)
    error = stripe_missing_error("ch_gone000000000000000001", seller.stripe_account_id)

    assert webhook_failure_settled(trigger=stored_trigger(event), exc=error) is None
    assert not AuditEvent.objects.filter(action="webhook.not_applied").exists()


def test_resource_missing_for_the_events_own_object_is_settled_as_nothing_to_do(stripe_sandbox):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    event = make_event("charge.refunded", {"id": "ch_gone000000000000000002", "object": "charge"},
                       account=seller.stripe_account_id)
    error = stripe_missing_error("ch_gone000000000000000002", seller.stripe_account_id)
    trigger = stored_trigger(event)

    assert webhook_failure_settled(trigger=trigger, exc=error) == "resource_missing"
    assert trigger.processed and trigger.exception.startswith("not applied: resource_missing")


def test_admin_lists_the_deliveries_not_applied_with_their_reason(stripe_sandbox, webhooks, settings, client):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    settings.STRIPE_LIVE_MODE = True
    assert webhooks() == []
    [succeeded] = stripe_sandbox.events(type="payment_intent.succeeded")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get("/admin/djstripe/webhookeventtrigger/?outcome=not_applied:livemode_mismatch")
    applied = client.get("/admin/djstripe/webhookeventtrigger/?outcome=processed")

    assert page.status_code == 200
    text = page.content.decode()
    assert f">{trigger_of(succeeded['id']).pk}<" in text
    assert "livemode_mismatch" in text and "Why not applied" in text
    assert f">{trigger_of(succeeded['id']).pk}<" not in applied.content.decode()
