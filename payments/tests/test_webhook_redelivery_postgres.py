"""Redelivery runs at the same time as each other and as a worker (PostgreSQL: real row locks).

SQLite serialises every writer, so these only mean something on PostgreSQL
(`PYTEST_WORKERS=0 bash scripts/test_postgres.sh payments/tests/test_webhook_redelivery_postgres.py`);
elsewhere they are skipped.
"""

import threading

import pytest
from django.db import connections, transaction
from djstripe import models as djstripe_models

from payments.models import OrderStatus, Payment
from payments.services.redelivery import webhooks_redeliver
from payments.services.webhooks import webhook_process
from payments.tests.redelivery_support import paid_at_stripe, stored_delivery, transitions
from testing.threads import run_at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_four_runs_at_once_apply_each_of_three_lost_deliveries_once(stripe_sandbox, settings):
    paid = [paid_at_stripe(stripe_sandbox) for _ in range(3)]
    triggers = [stored_delivery(event, seconds_ago=settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 1)
                for _order, event in paid]

    reports = run_at_once([webhooks_redeliver] * 4)

    assert not [report for report in reports if isinstance(report, Exception)], reports
    assert sum(report.applied for report in reports) == 3  # a trigger applied by two runs counts twice
    assert sum(report.failed + report.given_up for report in reports) == 0
    for order, event in paid:
        order.refresh_from_db()
        assert order.status == OrderStatus.PAID
        assert transitions(order) == ["paid"]
        assert Payment.objects.filter(order=order).count() == 1
        assert djstripe_models.Event.objects.filter(id=event["id"]).count() == 1
    assert djstripe_models.WebhookEventTrigger.objects.filter(
        pk__in=[trigger.pk for trigger in triggers], processed=True).count() == 3


def test_a_delivery_another_run_holds_is_passed_over_not_waited_for(stripe_sandbox, settings):
    order, event = paid_at_stripe(stripe_sandbox)
    trigger = stored_delivery(event, seconds_ago=settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 1)
    locked, release = threading.Event(), threading.Event()

    def hold():  # another run, in the middle of applying it
        try:
            with transaction.atomic():
                djstripe_models.WebhookEventTrigger.objects.select_for_update().get(pk=trigger.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=30)
    try:
        report = webhooks_redeliver()  # would wait out the holder (then apply it) without skip_locked
    finally:
        release.set()
        holder.join()

    assert (report.applied, report.skipped) == (0, 1)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert webhooks_redeliver().applied == 1  # released: the next run applies it
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_a_late_task_and_two_runs_applying_the_same_delivery_at_once_pay_the_order_once(
        stripe_sandbox, settings):
    order, event = paid_at_stripe(stripe_sandbox)
    trigger = stored_delivery(event, seconds_ago=settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 1)

    outcomes = run_at_once([webhooks_redeliver, webhooks_redeliver,
                            lambda: webhook_process(trigger_id=trigger.pk)])

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    trigger.refresh_from_db()
    assert trigger.processed
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert transitions(order) == ["paid"]
    assert Payment.objects.filter(order=order).count() == 1
    assert djstripe_models.Event.objects.filter(id=event["id"]).count() == 1
