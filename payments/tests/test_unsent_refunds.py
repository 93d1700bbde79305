"""Refund rows Stripe never answered, sent again by beat (payments.tasks.send_unsent_refunds):
a process killed between the row's commit and its Stripe call, before or after Stripe made the
refund, and Stripe answering 5xx. The host dying is the edge we do not own: it is played by a
Stripe call that never returns (SystemExit), with or without Stripe having made the refund."""

from datetime import timedelta

import pytest
import stripe
from django.utils import timezone

from core.errors import PaymentProviderError
from payments import stripe_api
from payments.models import Refund, RefundStatus
from payments.services.refunds import UNSENT_REFUND_GRACE, refund_request, refunds_send_unsent
from payments.tasks import send_unsent_refunds
from payments.tests.webhook_support import PAYOUT_DELAY_SECONDS, deliver, sandbox_refunds

pytestmark = pytest.mark.django_db

STRIPE_FORGETS_KEYS_AFTER = 24 * 3600


def killed_at_the_stripe_call(monkeypatch, order, *, after_stripe_made_it: bool) -> Refund:
    """The seller refunds $10.00 and the process dies inside the Stripe call: the row is
    committed, pending, with no Stripe id and no error recorded."""
    real_refund_create = stripe_api.refund_create

    def dies(**kwargs):
        if after_stripe_made_it:
            real_refund_create(**kwargs)
        raise SystemExit("the host went away")

    with monkeypatch.context() as patch:
        patch.setattr(stripe_api, "refund_create", dies)
        with pytest.raises(SystemExit):
            refund_request(order_id=order.pk, actor=order.seller, amount_cents=1000)
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.stripe_refund_id, refund.last_error) == (RefundStatus.PENDING, "", "")
    return refund


def settled(sandbox, refund: Refund) -> Refund:
    """Sent: it has its Stripe id. Then the sale's money becomes available, which covers the
    refund, and the webhooks: the row as it ends."""
    refund.refresh_from_db()
    assert refund.stripe_refund_id.startswith("re_")
    sandbox.advance_time(PAYOUT_DELAY_SECONDS)
    deliver(sandbox)
    refund.refresh_from_db()
    return refund


def refunded_once_with_the_first_key(sandbox, order, refund: Refund) -> None:
    refund = settled(sandbox, refund)
    assert (refund.status, refund.attempt) == (RefundStatus.SUCCEEDED, 1)
    assert [r["amount"] for r in sandbox_refunds(sandbox, order)] == [1000]
    order.refresh_from_db()
    assert order.payment.amount_refunded_cents == 1000


def untouched_for(refund: Refund, delta: timedelta) -> None:
    Refund.objects.filter(pk=refund.pk).update(updated_at=timezone.now() - delta)


def test_a_row_whose_process_died_before_the_call_is_sent_once_it_is_old_enough(
    monkeypatch, paid_order, webhook_sandbox
):
    refund = killed_at_the_stripe_call(monkeypatch, paid_order, after_stripe_made_it=False)

    # Its call could still be on the way: left alone.
    assert refunds_send_unsent() == {"sent": 0, "not_sent": 0, "refused": 0}
    untouched_for(refund, UNSENT_REFUND_GRACE + timedelta(seconds=1))
    assert refunds_send_unsent() == {"sent": 1, "not_sent": 0, "refused": 0}

    refunded_once_with_the_first_key(webhook_sandbox, paid_order, refund)
    assert refunds_send_unsent() == {"sent": 0, "not_sent": 0, "refused": 0}


def test_a_refund_stripe_made_before_the_process_died_is_found_after_stripe_forgot_its_key(
    monkeypatch, paid_order, webhook_sandbox
):
    refund = killed_at_the_stripe_call(monkeypatch, paid_order, after_stripe_made_it=True)
    # Its webhooks are lost too, and a day passes: the first key no longer replays the refund.
    webhook_sandbox.advance_time(STRIPE_FORGETS_KEYS_AFTER + 3600)
    untouched_for(refund, timedelta(hours=25))

    assert refunds_send_unsent() == {"sent": 1, "not_sent": 0, "refused": 0}

    refunded_once_with_the_first_key(webhook_sandbox, paid_order, refund)


def test_while_stripe_answers_5xx_the_row_waits_and_is_sent_with_a_new_key_once_it_answers(
    client, paid_order, webhook_sandbox
):
    webhook_sandbox.fail_next("/v1/refunds", status=500, times=6, method="POST")
    with pytest.raises(PaymentProviderError):
        refund_request(order_id=paid_order.pk, actor=paid_order.seller, amount_cents=1000)
    refund = Refund.objects.get(order=paid_order)
    untouched_for(refund, UNSENT_REFUND_GRACE)

    assert refunds_send_unsent() == {"sent": 0, "not_sent": 1, "refused": 0}
    refund.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id) == (RefundStatus.PENDING, "")
    assert refund.last_error  # what Stripe answered, for Finance
    # Stripe answers again; the row waits its turn, then goes with a key of its own.
    assert refunds_send_unsent() == {"sent": 0, "not_sent": 0, "refused": 0}
    untouched_for(refund, UNSENT_REFUND_GRACE)
    assert send_unsent_refunds.apply().get() == {"sent": 1, "not_sent": 0, "refused": 0}

    refund = settled(webhook_sandbox, refund)
    assert (refund.status, refund.attempt) == (RefundStatus.SUCCEEDED, 3)
    assert len(sandbox_refunds(webhook_sandbox, paid_order)) == 1


def test_a_row_stripe_now_refuses_is_marked_failed_and_counted(monkeypatch, paid_order, webhook_sandbox):
    refund = killed_at_the_stripe_call(monkeypatch, paid_order, after_stripe_made_it=False)
    # Meanwhile someone refunded nearly all of it from the Express dashboard.
    stripe.Refund.create(
        payment_intent=paid_order.payment_intent_id, amount=4500, stripe_account=paid_order.stripe_account_id
    )
    untouched_for(refund, UNSENT_REFUND_GRACE)

    assert refunds_send_unsent() == {"sent": 0, "not_sent": 0, "refused": 1}

    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert "greater than unrefunded amount" in refund.failure_reason


def test_rows_already_sent_or_settled_are_not_sent_again(paid_order, webhook_sandbox):
    refund = settled(
        webhook_sandbox, refund_request(order_id=paid_order.pk, actor=paid_order.seller, amount_cents=1000)
    )
    untouched_for(refund, timedelta(days=2))

    assert refunds_send_unsent() == {"sent": 0, "not_sent": 0, "refused": 0}
    assert len(sandbox_refunds(webhook_sandbox, paid_order)) == 1
