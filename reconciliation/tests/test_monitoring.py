"""The open differences on /metrics, and the daily beat entry."""

import pytest
from celery import current_app as app
from celery.schedules import crontab

from payments.tests.webhook_support import pay, sandbox_order
from reconciliation import tasks
from reconciliation.models import DifferenceKind as K
from reconciliation.services.fixes import difference_apply_missed_event
from reconciliation.tests.conftest import reconcile

pytestmark = pytest.mark.django_db


def open_gauge(client, settings, kind):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token").content.decode()
    line = f'stubcollector_reconciliation_differences_open{{kind="{kind}"}} '
    [value] = [row[len(line) :] for row in text.splitlines() if row.startswith(line)]
    return float(value)


def test_the_gauge_counts_the_newest_runs_open_differences_until_staff_fix_them(
    client, settings, stripe_sandbox, finance
):
    assert open_gauge(client, settings, K.PAYMENT_MISSED) == 0  # no run yet
    order = sandbox_order(stripe_sandbox)
    pay(order)
    _, found = reconcile()

    assert open_gauge(client, settings, K.PAYMENT_MISSED) == 1
    assert open_gauge(client, settings, K.REFUND_STRIPE_ONLY) == 0

    difference_apply_missed_event(difference_id=found[K.PAYMENT_MISSED][0].pk, actor=finance)

    assert open_gauge(client, settings, K.PAYMENT_MISSED) == 0


def test_beat_reconciles_daily():
    entry = app.conf.beat_schedule["reconcile-stripe"]

    assert entry["task"] == tasks.reconcile_stripe.name
    assert entry["schedule"] == crontab(hour=4, minute=15)


def test_the_daily_task_stores_a_run_and_returns_what_it_found(stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)

    assert tasks.reconcile_stripe() == 1
