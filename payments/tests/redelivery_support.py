"""Helpers for the redelivery tests: deliveries stored as webhook_receive stores them, whose
task never ran (lost with its worker or with Redis), and sandbox orders paid at Stripe."""

import json
from datetime import timedelta

from django.utils import timezone
from djstripe import models as djstripe_models

from payments.models import AuditEvent
from payments.services.webhooks import CONNECT, webhook_endpoint_get
from payments.tests.webhook_support import pay, sandbox_order


def stored_delivery(event: dict, *, seconds_ago: float) -> djstripe_models.WebhookEventTrigger:
    """A delivery to the Connect endpoint stored `seconds_ago` as webhook_receive stores it,
    whose task never ran."""
    trigger = djstripe_models.WebhookEventTrigger.objects.create(
        remote_ip="127.0.0.1", headers={"Content-Type": "application/json"}, body=json.dumps(event),
        valid=True, webhook_endpoint=webhook_endpoint_get(CONNECT),
    )
    return last_touched(trigger, seconds_ago=seconds_ago)


def last_touched(trigger, *, seconds_ago: float):
    """Move the row's times back, as if the clock had moved on (auto_now writes only on save)."""
    at = timezone.now() - timedelta(seconds=seconds_ago)
    djstripe_models.WebhookEventTrigger.objects.filter(pk=trigger.pk).update(created=at, updated=at)
    trigger.refresh_from_db()
    return trigger


def paid_at_stripe(sandbox):
    """An order paid at Stripe whose payment_intent.succeeded was not applied: the event."""
    order = sandbox_order(sandbox)
    pay(order)
    (event,) = [event for event in sandbox.events(type="payment_intent.succeeded")
                if event["data"]["object"]["id"] == order.payment_intent_id]
    return order, event


def transitions(order) -> list[str]:
    return list(AuditEvent.objects.filter(order=order, action="order.transition").order_by("id")
                .values_list("to_status", flat=True))
