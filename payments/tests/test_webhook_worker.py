"""Webhooks are answered before they are applied; a Celery worker applies them, retrying.

`worker_app` switches the Celery app from eager mode to a real broker (kombu's in-memory
transport) for one test, so a delivery waits in the queue until `celery.contrib.testing`'s
worker (a real Worker, in a thread of this process) takes it. The worker reads what the view
committed, hence `transactional_db`.
"""

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections
from djstripe import models as djstripe_models
from prometheus_client import REGISTRY

from payments.models import OrderStatus
from payments.services import payment_events
from payments.services.webhooks import FAILED_PREFIX, webhook_deliveries_counts
from payments.tests.webhook_support import CONNECT_PATH, pay, post_event, sandbox_order
from testing.celery_support import wait_until


def counter(outcome: str, event_type: str = "payment_intent.succeeded") -> float:
    value = REGISTRY.get_sample_value(
        "stubcollector_webhook_deliveries_total", {"type": event_type, "outcome": outcome})
    return value or 0.0


@pytest.mark.django_db(transaction=True)
def test_a_webhook_is_answered_200_before_its_processing_runs_and_is_then_applied_by_the_worker(
    client, stripe_sandbox, worker_app
):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    (event,) = stripe_sandbox.events(type="payment_intent.succeeded")

    response = post_event(client, event, path=CONNECT_PATH)

    assert response.status_code == 200 and response.json() == {"received": True, "event": event["id"]}
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT  # answered; nothing applied yet
    trigger = djstripe_models.WebhookEventTrigger.objects.get()
    assert trigger.valid and not trigger.processed

    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        wait_until(lambda: djstripe_models.WebhookEventTrigger.objects.filter(processed=True).exists())
    connections.close_all()

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert djstripe_models.Event.objects.filter(id=event["id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_delivery_through_the_worker_is_applied_once(client, stripe_sandbox, worker_app):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    (event,) = stripe_sandbox.events(type="payment_intent.succeeded")

    assert post_event(client, event, path=CONNECT_PATH).status_code == 200
    assert post_event(client, event, path=CONNECT_PATH).status_code == 200
    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        wait_until(lambda: djstripe_models.WebhookEventTrigger.objects.filter(processed=True).count() == 2)
    connections.close_all()

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payment is not None
    assert djstripe_models.Event.objects.filter(id=event["id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_processing_failure_is_retried_by_the_worker_then_marked_failed_and_counted(
    client, stripe_sandbox, worker_app, settings, monkeypatch
):
    settings.WEBHOOK_MAX_RETRIES = 2
    monkeypatch.setattr("payments.services.webhooks.webhook_retry_delay", lambda *, retries: 0)
    tries = []

    def explode(**kwargs):
        tries.append(1)
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(payment_events, "_honour", explode)
    order = sandbox_order(stripe_sandbox)
    pay(order)
    (event,) = stripe_sandbox.events(type="payment_intent.succeeded")
    failed_before, retrying_before = counter("failed"), counter("retrying")

    assert post_event(client, event, path=CONNECT_PATH).status_code == 200
    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        wait_until(lambda: djstripe_models.WebhookEventTrigger.objects.filter(
            exception__startswith=FAILED_PREFIX).exists())
    connections.close_all()

    assert len(tries) == 3
    trigger = djstripe_models.WebhookEventTrigger.objects.get()
    assert not trigger.processed
    assert trigger.exception.startswith("failed after 3 tries: RuntimeError: database hiccup")
    assert counter("retrying") - retrying_before == 2
    assert counter("failed") - failed_before == 1
    assert webhook_deliveries_counts() == {"failed": 1, "unprocessed": 0}
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_worker_retries_reach_past_stripes_three_days_and_no_wait_outlasts_the_broker_hold(
        settings):
    from payments.services.webhooks import webhook_retry_delay

    delays = [webhook_retry_delay(retries=n) for n in range(settings.WEBHOOK_MAX_RETRIES)]

    assert sum(delays) >= 3 * 24 * 3600  # https://docs.stripe.com/webhooks#retries
    assert max(delays) < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
