"""replay_stripe_events: events that never reached our webhooks are applied once."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from djstripe.models import WebhookEventTrigger

from payments.models import AuditEvent, OrderStatus
from payments.tests.webhook_support import pay, sandbox_order, sandbox_seller_onboarded

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


def test_a_seller_who_left_the_platform_is_skipped_and_reported_and_the_run_goes_on(stripe_sandbox):
    # No endpoint registered: neither the deauthorization nor the payment reached us.
    gone = sandbox_seller_onboarded(stripe_sandbox)
    order = sandbox_order(stripe_sandbox)  # another seller's sale
    pay(order)
    stripe_sandbox.disconnect_account(gone.stripe_account_id)

    out = replay("--since", "2000-01-01")

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert f"skipped {gone.stripe_account_id}: Stripe no longer lets us read it" in out
    assert "1 accounts unreadable" in out
    gone.refresh_from_db()
    assert gone.stripe_disconnected_at is not None  # the lost deauthorization, applied
    assert AuditEvent.objects.filter(action="connect.account_disconnected", subject_user=gone).count() == 1

    replay("--since", "2000-01-01")

    assert AuditEvent.objects.filter(action="connect.account_disconnected", subject_user=gone).count() == 1


def test_a_dry_run_reports_an_unreadable_account_and_disconnects_nobody(stripe_sandbox):
    gone = sandbox_seller_onboarded(stripe_sandbox)
    stripe_sandbox.disconnect_account(gone.stripe_account_id)

    out = replay("--since", "2000-01-01", "--dry-run")

    assert f"skipped {gone.stripe_account_id}" in out
    gone.refresh_from_db()
    assert gone.stripe_disconnected_at is None


def test_a_listed_deauthorization_is_replayed_like_a_delivery(stripe_sandbox, monkeypatch):
    """When Stripe still lists the deauthorization, it goes through the webhook pipeline."""
    from payments.services import replay as replay_service

    gone = sandbox_seller_onboarded(stripe_sandbox)
    stripe_sandbox.disconnect_account(gone.stripe_account_id)
    [deauthorized] = stripe_sandbox.events(type="account.application.deauthorized")
    monkeypatch.setattr(replay_service, "_events", lambda *, since, stripe_account:
                        [deauthorized] if stripe_account == gone.stripe_account_id else [])

    out = replay("--since", "2000-01-01")

    assert f"applied {deauthorized['id']}" in out
    gone.refresh_from_db()
    assert gone.stripe_disconnected_at is not None
