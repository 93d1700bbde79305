"""Connect's balance re-read after the events that take money from a seller and never come as
`balance.available` (connect/webhooks.py BALANCE_DEBIT_HANDLERS, and payout.failed): the seller's
recorded balance is what Stripe says after the event, read again, not the event's copy."""

import pytest
import stripe
from django.conf import settings

from accounts.models import User
from payments.models import AuditEvent, OrderStatus
from payments.services.refunds import refund_request
from payments.tests.factories import staff_member
from payments.tests.webhook_support import pay, sandbox_order, sandbox_seller_onboarded

pytestmark = pytest.mark.django_db


def stripe_balance(sandbox, account_id: str) -> tuple[int, int]:
    balance = stripe.Balance.retrieve(stripe_account=account_id, api_key=settings.STRIPE_SECRET_KEY)
    available = sum(row["amount"] for row in balance["available"] if row["currency"] == "usd")
    pending = sum(row["amount"] for row in balance["pending"] if row["currency"] == "usd")
    return available, available + pending


def test_a_refund_makes_the_seller_balance_be_read_again_from_stripe(stripe_sandbox, webhooks):
    seller = sandbox_seller_onboarded(stripe_sandbox, email="seller@example.com")
    order = sandbox_order(stripe_sandbox, seller=seller)
    pay(order)
    assert webhooks() == []
    seller.refresh_from_db()
    paid_total, paid_read_at = seller.stripe_balance_cents, seller.stripe_balance_synced_at

    refund_request(order_id=order.pk, actor=staff_member("Finance"))
    assert webhooks() == []

    order.refresh_from_db()
    seller.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    available, total = stripe_balance(stripe_sandbox, seller.stripe_account_id)
    assert (seller.stripe_balance_available_cents, seller.stripe_balance_cents) == (available, total)
    assert seller.stripe_balance_cents < (paid_total or 0) + order.amount_cents
    assert paid_read_at is None or seller.stripe_balance_synced_at > paid_read_at


def test_a_failed_payout_makes_the_seller_balance_be_read_again_from_stripe(stripe_sandbox, webhooks):
    """The sandbox cannot make a bank refuse a payout, so Stripe's event is sent as the Stripe
    CLI's `stripe trigger payout.failed` would: a signed Connect event about a payout of the
    seller's account. What the handler reads is the sandbox's real balance."""
    seller = sandbox_seller_onboarded(stripe_sandbox, email="seller@example.com")
    pay(sandbox_order(stripe_sandbox, seller=seller))
    assert webhooks() == []
    User.objects.filter(pk=seller.pk).update(stripe_balance_cents=-1, stripe_balance_available_cents=-1,
                                             stripe_balance_synced_at=None)
    payout = {"id": "po_1FailedToTheBank", "object": "payout", "amount": 1500, "currency": "usd",
              "status": "failed", "failure_code": "account_closed"}

    with stripe_sandbox.store.lock:
        stripe_sandbox.api.emit("payout.failed", payout, seller.stripe_account_id)
    assert webhooks() == []

    seller.refresh_from_db()
    available, total = stripe_balance(stripe_sandbox, seller.stripe_account_id)
    assert (seller.stripe_balance_available_cents, seller.stripe_balance_cents) == (available, total)
    assert total > 0 and seller.stripe_balance_synced_at is not None
    assert not AuditEvent.objects.filter(action="connect.balance_negative", subject_user=seller).exists()


def test_a_failed_payout_of_the_platform_itself_reads_no_sellers_balance(stripe_sandbox, webhooks):
    seller = sandbox_seller_onboarded(stripe_sandbox, email="seller@example.com")
    pay(sandbox_order(stripe_sandbox, seller=seller))
    assert webhooks() == []
    User.objects.filter(pk=seller.pk).update(stripe_balance_synced_at=None)
    payout = {"id": "po_1PlatformPayout", "object": "payout", "amount": 900, "currency": "usd",
              "status": "failed", "failure_code": "account_closed"}

    with stripe_sandbox.store.lock:
        stripe_sandbox.api.emit("payout.failed", payout, "platform")
    assert webhooks() == []

    seller.refresh_from_db()
    assert seller.stripe_balance_synced_at is None
