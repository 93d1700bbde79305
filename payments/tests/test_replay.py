"""replay_stripe_events: events that never reached our webhooks are applied once."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from djstripe.models import WebhookEventTrigger

from payments.models import OrderStatus
from payments.tests.webhook_support import pay, sandbox_order

pytestmark = pytest.mark.django_db


def replay(*args):
    out = StringIO()
    call_command("replay_stripe_events", *args, stdout=out)
    return out.getvalue()


def test_a_missed_payment_is_applied_once_and_a_second_run_applies_nothing(stripe_sandbox):
    # No endpoint is registered with the sandbox: the events happen at Stripe, none reaches us.
    order = sandbox_order(stripe_sandbox)
    pay(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT

    first = replay("--since", "2000-01-01")

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payment.charge_id
    assert "applied evt_" in first
    replayed = WebhookEventTrigger.objects.filter(headers__has_key="X-Replayed-By")
    assert replayed.exists() and all(t.processed for t in replayed)

    second = replay("--since", "2000-01-01")

    assert "0 applied" in second
    assert order.audit_events.filter(action="order.transition", to_status=OrderStatus.PAID).count() == 1


def test_a_dry_run_applies_nothing(stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)

    out = replay("--since", "2000-01-01", "--dry-run")

    order.refresh_from_db()
    assert "would apply" in out
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_events_before_the_date_are_left_alone(stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)

    out = replay("--since", "2999-01-01")

    assert out.startswith("0 events listed")


def test_a_bad_date_is_a_clear_error():
    with pytest.raises(CommandError, match="date like 2026-11-01"):
        replay("--since", "yesterday")
