"""Each kind of difference, made on purpose in the sandbox or in our rows, is found; a clean set
of books reports none."""

import pytest
import stripe
from django.conf import settings

from disputes.models import Dispute
from payments.models import Order, OrderStatus, Payment, RefundStatus
from payments.services.refunds import refund_request
from payments.tests.factories import PaymentFactory, RefundFactory
from payments.tests.webhook_support import deliver, pay, sandbox_order
from reconciliation.models import DifferenceKind as K
from reconciliation.models import Fix, RunStatus
from reconciliation.tests.conftest import reconcile

pytestmark = pytest.mark.django_db


def at_stripe(method, *args, account, **params):
    """A call made straight at Stripe on the seller's account, as the dashboard would: our code
    never hears of it unless a webhook arrives."""
    return method(*args, stripe_account=account, api_key=settings.STRIPE_SECRET_KEY, **params)


def fee_of(order):
    charge = stripe.Charge.retrieve(order.payment.charge_id, stripe_account=order.stripe_account_id)
    return charge.application_fee


def test_a_paid_order_and_a_refund_made_here_reconcile_with_no_difference(paid_order, webhook_sandbox):
    refund_request(order_id=paid_order.pk, actor=paid_order.seller, amount_cents=1200)
    deliver(webhook_sandbox)

    run, found = reconcile()

    assert found == {}
    assert run.status == RunStatus.FINISHED
    assert run.objects_read >= 3  # the PaymentIntent, its charge, the platform's fee (and the refund)


def test_a_refund_made_behind_the_apps_back_is_a_refund_at_stripe_only(paid_order, webhook_sandbox):
    refund = at_stripe(
        stripe.Refund.create,
        payment_intent=paid_order.payment_intent_id,
        amount=1000,
        refund_application_fee=True,
        account=paid_order.stripe_account_id,
    )
    # Its charge.refunded and refund.created events are never delivered.

    _, found = reconcile()

    assert list(found) == [K.REFUND_STRIPE_ONLY]
    [difference] = found[K.REFUND_STRIPE_ONLY]
    assert (difference.order, difference.stripe_object_id, difference.fix) == (
        paid_order,
        refund.id,
        Fix.ADOPT_REFUND,
    )
    assert difference.stripe["amount"] == 1000
    assert not paid_order.refunds.exists()  # a run changes nothing


def test_a_lost_payment_webhook_is_a_payment_missed_with_the_event_to_apply(stripe_sandbox):
    # No endpoint is registered: the payment happens at Stripe and no event reaches us.
    order = sandbox_order(stripe_sandbox)
    pay(order)

    _, found = reconcile()

    assert list(found) == [K.PAYMENT_MISSED]
    [difference] = found[K.PAYMENT_MISSED]
    assert (difference.order_id, difference.stripe_object_id, difference.fix) == (
        order.pk,
        order.payment_intent_id,
        Fix.APPLY_EVENT,
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_an_amount_currency_or_fee_changed_here_is_reported_by_what_differs(paid_order):
    Payment.objects.filter(order=paid_order).update(amount_cents=4000, currency="eur")

    _, found = reconcile()

    assert set(found) == {K.AMOUNT_DIFFERS, K.CURRENCY_DIFFERS}
    assert found[K.AMOUNT_DIFFERS][0].ours["amount"] == 4000
    assert found[K.AMOUNT_DIFFERS][0].stripe["amount"] == 5000
    assert found[K.AMOUNT_DIFFERS][0].fix == Fix.NONE


def test_a_platform_fee_higher_here_than_stripe_took_is_a_fee_difference_and_not_received(paid_order):
    Payment.objects.filter(order=paid_order).update(application_fee_cents=600)

    _, found = reconcile()

    assert set(found) == {K.FEE_DIFFERS, K.FEE_NOT_RECEIVED}
    assert found[K.FEE_NOT_RECEIVED][0].stripe == {"received": 500}


def test_a_fee_stripe_never_took_is_a_fee_not_received(paid_order, webhook_sandbox):
    webhook_sandbox.forget(fee_of(paid_order))  # Stripe has no fee for the charge

    _, found = reconcile()

    assert list(found) == [K.FEE_NOT_RECEIVED]
    [difference] = found[K.FEE_NOT_RECEIVED]
    assert difference.order == paid_order
    assert difference.stripe_object_id == paid_order.payment.charge_id


def test_a_refund_that_kept_the_platform_fee_is_a_fee_not_given_back(paid_order, webhook_sandbox):
    # Refunded in full from the dashboard without refund_application_fee: the platform keeps its fee.
    at_stripe(
        stripe.Refund.create,
        payment_intent=paid_order.payment_intent_id,
        account=paid_order.stripe_account_id,
    )
    deliver(webhook_sandbox)  # the refund sync records it here

    _, found = reconcile()

    assert list(found) == [K.FEE_NOT_RETURNED]
    [difference] = found[K.FEE_NOT_RETURNED]
    assert (difference.ours, difference.stripe["amount_refunded"]) == ({"fee_due_back": 500}, 0)


def test_a_dispute_only_at_stripe_is_found_with_the_event_to_apply(paid_order, webhook_sandbox):
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)  # its events never delivered

    _, found = reconcile()

    assert list(found) == [K.DISPUTE_STRIPE_ONLY]
    [difference] = found[K.DISPUTE_STRIPE_ONLY]
    assert (difference.stripe_object_id, difference.order, difference.fix) == (
        dispute["id"],
        paid_order,
        Fix.APPLY_EVENT,
    )


def test_a_dispute_decided_at_stripe_but_not_here_is_in_another_state(paid_order, webhook_sandbox):
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)
    deliver(webhook_sandbox)
    webhook_sandbox.resolve_dispute(dispute["id"], "won")  # charge.dispute.closed is lost

    _, found = reconcile()

    assert list(found) == [K.DISPUTE_STATE]
    [difference] = found[K.DISPUTE_STATE]
    assert (difference.ours["status"], difference.stripe["status"]) == ("needs_response", "won")


def test_an_order_paid_here_only_is_reported_with_what_stripe_says(stripe_sandbox):
    order = sandbox_order(stripe_sandbox)  # its PaymentIntent is never paid at Stripe
    PaymentFactory(order=order)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)

    _, found = reconcile()

    assert list(found) == [K.LOCAL_ONLY_PAYMENT]
    [difference] = found[K.LOCAL_ONLY_PAYMENT]
    assert (difference.order, difference.stripe_object_id) == (order, order.payment_intent_id)
    assert difference.stripe == {"status": "requires_payment_method"}


def test_money_taken_at_stripe_with_no_order_here_is_reported(paid_order):
    account = paid_order.stripe_account_id
    stray = at_stripe(
        stripe.PaymentIntent.create,
        amount=2500,
        currency="usd",
        application_fee_amount=250,
        payment_method_types=["card"],
        payment_method="pm_card_visa",
        confirm=True,
        account=account,
    )

    _, found = reconcile()

    assert list(found) == [K.STRIPE_ONLY_PAYMENT]
    [difference] = found[K.STRIPE_ONLY_PAYMENT]
    assert (difference.order, difference.stripe_object_id, difference.stripe["amount"]) == (
        None,
        stray.id,
        2500,
    )


def test_a_refund_succeeded_here_that_stripe_never_made_is_a_refund_here_only(paid_order):
    RefundFactory(order=paid_order, amount_cents=700, status=RefundStatus.SUCCEEDED, stripe_refund_id="")

    _, found = reconcile()

    assert K.REFUND_LOCAL_ONLY in found
    assert found[K.REFUND_LOCAL_ONLY][0].ours["amount"] == 700


def test_a_refund_whose_success_never_reached_us_is_in_another_state(paid_order, webhook_sandbox):
    refund = refund_request(order_id=paid_order.pk, actor=paid_order.seller, amount_cents=1500)
    assert refund.status == RefundStatus.PENDING  # the sale's money is not available yet
    webhook_sandbox.settle_refunds(refund.stripe_refund_id)  # its charge.refund.updated is lost

    _, found = reconcile()

    assert list(found) == [K.REFUND_STATE]
    [difference] = found[K.REFUND_STATE]
    assert (difference.ours["status"], difference.stripe["status"], difference.fix) == (
        "pending",
        "succeeded",
        Fix.ADOPT_REFUND,
    )


def test_a_dispute_recorded_here_that_stripe_does_not_know_is_a_dispute_here_only(paid_order):
    Dispute.objects.create(
        order=paid_order,
        stripe_dispute_id="dp_never_at_stripe",
        stripe_account_id=paid_order.stripe_account_id,
        amount_cents=5000,
        status="needs_response",
    )

    _, found = reconcile()

    assert list(found) == [K.DISPUTE_LOCAL_ONLY]


def test_one_account_can_be_reconciled_alone(paid_order, webhook_sandbox):
    other = sandbox_order(webhook_sandbox)
    pay(other)  # lost: nothing delivered; the first seller's books are clean

    _, only_first = reconcile(account=paid_order.stripe_account_id)
    _, only_other = reconcile(account=other.stripe_account_id)

    assert only_first == {}
    assert list(only_other) == [K.PAYMENT_MISSED]
