"""Stored deliveries whose task was lost are applied by beat (payments.services.redelivery).

A delivery is stored here as `webhook_receive` stores it, with no task behind it: the task was
lost with its worker or with Redis. The first test loses it for real, purging the broker the
view queued it on, and runs the beat task through a worker.
"""

import logging
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from djstripe import models as djstripe_models

from payments.models import OrderStatus, Payment
from payments.services.redelivery import webhook_redelivery_due, webhooks_redeliver
from payments.services.webhooks import FAILED_PREFIX
from payments.tests.redelivery_support import last_touched, paid_at_stripe, stored_delivery, transitions
from payments.tests.webhook_support import CONNECT_PATH, make_event, post_event
from testing.celery_support import wait_until

TASK = "payments.tasks.redeliver_lost_webhooks"


@pytest.mark.django_db(transaction=True)
def test_a_delivery_whose_queued_task_was_lost_is_applied_by_the_beat_task_and_its_order_paid(
        client, stripe_sandbox, worker_app, settings):
    order, event = paid_at_stripe(stripe_sandbox)
    assert post_event(client, event, path=CONNECT_PATH).status_code == 200
    worker_app.control.purge()  # Redis restarted empty: the queued task is gone
    trigger = last_touched(djstripe_models.WebhookEventTrigger.objects.get(),
                           seconds_ago=settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 1)

    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = worker_app.tasks[TASK].apply_async()
        wait_until(lambda: djstripe_models.WebhookEventTrigger.objects.filter(processed=True).exists())
    connections.close_all()

    assert result.id
    trigger.refresh_from_db()
    assert trigger.processed and trigger.exception == ""
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert transitions(order) == ["paid"]


@pytest.mark.django_db
def test_the_beat_task_applies_a_stale_delivery_and_leaves_a_fresh_one_to_its_task(stripe_sandbox, settings):
    from payments.tasks import redeliver_lost_webhooks

    stale_order, stale_event = paid_at_stripe(stripe_sandbox)
    fresh_order, fresh_event = paid_at_stripe(stripe_sandbox)
    stale = stored_delivery(stale_event, seconds_ago=settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 5)
    fresh = stored_delivery(fresh_event, seconds_ago=settings.WEBHOOK_REDELIVER_AFTER_SECONDS - 30)

    assert redeliver_lost_webhooks.apply().get() == {"applied": 1, "failed": 0, "given_up": 0, "skipped": 0}

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.processed
    assert not fresh.processed and fresh.exception == ""
    stale_order.refresh_from_db()
    fresh_order.refresh_from_db()
    assert stale_order.status == OrderStatus.PAID
    assert fresh_order.status == OrderStatus.PENDING_PAYMENT
    assert redeliver_lost_webhooks.apply().get()["applied"] == 0  # nothing due: the fresh one waits


@pytest.mark.django_db
def test_a_delivery_waiting_out_its_tasks_back_off_is_left_to_the_task_until_that_try_is_overdue(
        stripe_sandbox, settings):
    order, event = paid_at_stripe(stripe_sandbox)
    trigger = stored_delivery(event, seconds_ago=0)
    trigger.exception = "try 3 failed: APIConnectionError: Stripe did not answer"
    trigger.save()  # the task retries in 8 min (webhook_retry_delay(retries=2))
    after = settings.WEBHOOK_REDELIVER_AFTER_SECONDS
    now = timezone.now()

    assert webhooks_redeliver(now=now + timedelta(seconds=480 + after - 5)).applied == 0
    report = webhooks_redeliver(now=now + timedelta(seconds=480 + after + 5))

    assert report.applied == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


@pytest.mark.django_db
def test_a_delivery_failing_every_time_backs_off_then_is_left_for_replay_failed_webhooks(
        stripe_sandbox, settings, caplog):
    settings.WEBHOOK_MAX_RETRIES = 2
    after = settings.WEBHOOK_REDELIVER_AFTER_SECONDS
    order, event = paid_at_stripe(stripe_sandbox)
    trigger = stored_delivery(event, seconds_ago=after + 1)
    # Stripe answers 500 to every read of the PaymentIntent: each try fails.
    stripe_sandbox.fail_next("/v1/payment_intents", status=500, times=1000, method="GET")

    def run(seconds_after_last_try: float):
        """A run that long after the row's last try (or, before any, after it was stored)."""
        report = webhooks_redeliver(now=trigger.updated + timedelta(seconds=seconds_after_last_try))
        trigger.refresh_from_db()
        return report

    assert run(after + 1).failed == 1
    assert trigger.exception.startswith("try 1 failed: ")
    # Not again next minute: the task's back-off after try 1 (30 s), then the threshold.
    assert run(60).failed == 0
    assert run(30 + after - 5).failed == 0
    assert run(30 + after + 5).failed == 1
    assert trigger.exception.startswith("try 2 failed: ")
    assert run(120 + after - 5).failed == 0
    with caplog.at_level(logging.ERROR, logger="payments.services.redelivery"):
        assert run(120 + after + 5).given_up == 1  # try 3 = 1 + WEBHOOK_MAX_RETRIES: the last
    assert trigger.exception.startswith(f"{FAILED_PREFIX} 3 tries: ")
    assert any(f"trigger {trigger.pk}" in message and "replay_failed_webhooks" in message
               for message in (record.getMessage() for record in caplog.records))
    assert vars(run(30 * 86400)) == {"applied": 0, "failed": 0, "given_up": 0, "skipped": 0}
    assert not webhook_redelivery_due(now=timezone.now() + timedelta(days=30)).exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT

    stripe_sandbox.clear_faults()
    call_command("replay_failed_webhooks")  # staff's replay, once Stripe answers again

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


@pytest.mark.django_db
def test_a_duplicate_delivery_of_an_event_already_applied_is_marked_processed_and_applies_nothing(
        client, stripe_sandbox, settings):
    order, event = paid_at_stripe(stripe_sandbox)
    assert post_event(client, event, path=CONNECT_PATH).status_code == 200  # applied at once (eager)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    duplicate = stored_delivery(event, seconds_ago=settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 1)

    assert webhooks_redeliver().applied == 1

    duplicate.refresh_from_db()
    assert duplicate.processed and duplicate.event_id == event["id"]
    assert transitions(order) == ["paid"]
    assert Payment.objects.filter(order=order).count() == 1
    assert djstripe_models.Event.objects.filter(id=event["id"]).count() == 1


@pytest.mark.django_db
def test_a_run_applies_at_most_a_batch_oldest_first_and_the_next_run_goes_on(settings):
    settings.WEBHOOK_REDELIVER_BATCH = 2
    # Events of an account nobody here has: settled without calling Stripe (webhook_guards).
    for n in range(3):
        stored_delivery(make_event("payment_intent.succeeded", account="acct_nobody_here"),
                        seconds_ago=settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 60 - n)

    assert webhooks_redeliver().applied == 2
    processed = djstripe_models.WebhookEventTrigger.objects.order_by("pk").values_list("processed", flat=True)
    assert list(processed) == [True, True, False]
    assert webhooks_redeliver().applied == 1
    assert list(processed.all()) == [True, True, True]


@pytest.mark.django_db
def test_a_row_that_raises_backs_off_and_does_not_stop_the_run_at_it(settings, caplog):
    after = settings.WEBHOOK_REDELIVER_AFTER_SECONDS
    # A body no delivery could store (webhook_verify wants an event object), first in line.
    corrupt = stored_delivery(make_event("payment_intent.succeeded"), seconds_ago=after + 60)
    djstripe_models.WebhookEventTrigger.objects.filter(pk=corrupt.pk).update(body="[]")
    stored_delivery(make_event("payment_intent.succeeded", account="acct_nobody_here"), seconds_ago=after + 1)

    with caplog.at_level(logging.ERROR, logger="payments.services.redelivery"):
        report = webhooks_redeliver()

    assert (report.applied, report.failed) == (1, 1)
    corrupt.refresh_from_db()
    assert corrupt.exception.startswith("try 1 failed: ") and not corrupt.processed
    assert f"(trigger {corrupt.pk}) raised on redelivery" in caplog.text
    assert not webhook_redelivery_due(now=timezone.now() + timedelta(seconds=60)).exists()


@pytest.mark.django_db
def test_a_delivery_that_never_passed_verification_or_was_given_up_is_never_redelivered(settings):
    old = settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 3600
    invalid = stored_delivery(make_event("payment_intent.succeeded"), seconds_ago=old)
    djstripe_models.WebhookEventTrigger.objects.filter(pk=invalid.pk).update(valid=False)
    given_up = stored_delivery(make_event("payment_intent.succeeded"), seconds_ago=old)
    djstripe_models.WebhookEventTrigger.objects.filter(pk=given_up.pk).update(
        exception=f"{FAILED_PREFIX} 101 tries: RuntimeError: boom")

    assert vars(webhooks_redeliver()) == {"applied": 0, "failed": 0, "given_up": 0, "skipped": 0}


@pytest.mark.django_db
def test_metrics_count_the_deliveries_overdue_for_redelivery(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    after = settings.WEBHOOK_REDELIVER_AFTER_SECONDS
    stored_delivery(make_event("payment_intent.succeeded"), seconds_ago=after + 1)
    stored_delivery(make_event("payment_intent.succeeded"), seconds_ago=10)

    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token").content.decode()

    assert "stubcollector_webhook_deliveries_overdue 1.0" in text
    assert "stubcollector_webhook_deliveries_unprocessed 2.0" in text


@pytest.mark.django_db
def test_beat_runs_the_redelivery_every_minute_and_drops_a_tick_left_waiting():
    from celery import current_app as app

    app.loader.import_default_modules()
    (entry,) = [e for e in app.conf.beat_schedule.values() if e["task"] == TASK]
    assert TASK in app.tasks
    assert entry["schedule"].minute == set(range(60))
    assert entry["options"]["expires"] < 60
