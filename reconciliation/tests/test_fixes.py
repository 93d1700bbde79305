"""The staff actions: each fixes its difference through the existing machinery, is audited, and
is refused a second time or when it is no longer safe."""

import pytest
import stripe
from django.conf import settings

from disputes.models import Dispute, DisputeStatus
from payments.models import AuditEvent, OrderStatus, RefundStatus
from payments.services.refunds import refund_request
from payments.tests.webhook_support import deliver, endpoints_register, pay, sandbox_order
from reconciliation.models import DifferenceKind as K
from reconciliation.services.fixes import FixRefused, difference_adopt_refund, difference_apply_missed_event
from reconciliation.tests.conftest import reconcile

pytestmark = pytest.mark.django_db


def dashboard_refund(order, **params):
    return stripe.Refund.create(
        payment_intent=order.payment_intent_id,
        stripe_account=order.stripe_account_id,
        api_key=settings.STRIPE_SECRET_KEY,
        **params,
    )


def test_applying_the_missed_payment_event_marks_the_order_paid_once_and_is_audited(stripe_sandbox, finance):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    _, found = reconcile()
    [difference] = found[K.PAYMENT_MISSED]

    difference_apply_missed_event(difference_id=difference.pk, actor=finance)

    order.refresh_from_db()
    difference.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert (difference.resolved_by, difference.resolution.startswith("Applied evt_")) == (finance, True)
    audit = AuditEvent.objects.get(action="reconciliation.event_applied")
    assert (audit.actor, audit.order, audit.data["difference"]) == (finance, order, difference.pk)
    with pytest.raises(FixRefused, match="Already resolved"):
        difference_apply_missed_event(difference_id=difference.pk, actor=finance)
    assert reconcile()[1] == {}


def test_applying_a_missed_event_is_refused_once_the_event_arrived_by_itself(stripe_sandbox, client, finance):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    _, found = reconcile()
    [difference] = found[K.PAYMENT_MISSED]
    # The endpoint comes back and Stripe's retries deliver the events after the run.
    endpoints_register(stripe_sandbox, client)
    for event in stripe_sandbox.events(account=order.stripe_account_id):
        stripe_sandbox.send_event(event["id"])
    deliver(stripe_sandbox)

    with pytest.raises(FixRefused, match="nothing to apply"):
        difference_apply_missed_event(difference_id=difference.pk, actor=finance)
    difference.refresh_from_db()
    assert difference.resolved_at is None
    assert not AuditEvent.objects.filter(action="reconciliation.event_applied").exists()


def test_a_dispute_only_at_stripe_is_recorded_by_applying_its_events(paid_order, webhook_sandbox, finance):
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)
    _, found = reconcile()

    difference_apply_missed_event(difference_id=found[K.DISPUTE_STRIPE_ONLY][0].pk, actor=finance)

    assert Dispute.objects.get(stripe_dispute_id=dispute["id"]).status == DisputeStatus.NEEDS_RESPONSE
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.DISPUTED
    assert reconcile()[1] == {}


def test_adopting_a_dashboard_refund_records_it_through_the_refund_sync(paid_order, finance):
    refund = dashboard_refund(paid_order, amount=1000, refund_application_fee=True)
    _, found = reconcile()
    [difference] = found[K.REFUND_STRIPE_ONLY]

    difference_adopt_refund(difference_id=difference.pk, actor=finance)

    row = paid_order.refunds.get()
    assert (row.stripe_refund_id, row.amount_cents, row.status) == (refund.id, 1000, refund.status)
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PARTIALLY_REFUNDED
    audit = AuditEvent.objects.get(action="reconciliation.refund_adopted")
    assert (audit.actor, audit.order, audit.data["refund"]) == (finance, paid_order, refund.id)
    with pytest.raises(FixRefused, match="Already resolved"):
        difference_adopt_refund(difference_id=difference.pk, actor=finance)
    assert reconcile()[1] == {}


def test_adopting_is_refused_when_the_refund_sync_already_recorded_it(paid_order, webhook_sandbox, finance):
    dashboard_refund(paid_order, amount=1000, refund_application_fee=True)
    _, found = reconcile()
    deliver(webhook_sandbox)  # the late webhook makes the row

    with pytest.raises(FixRefused, match="nothing the refund sync may change"):
        difference_adopt_refund(difference_id=found[K.REFUND_STRIPE_ONLY][0].pk, actor=finance)
    assert paid_order.refunds.count() == 1


def test_a_refund_whose_success_was_lost_is_brought_forward_by_adopting_it(
    paid_order, webhook_sandbox, finance
):
    refund = refund_request(order_id=paid_order.pk, actor=paid_order.seller, amount_cents=1500)
    webhook_sandbox.settle_refunds(refund.stripe_refund_id)
    _, found = reconcile()

    difference_adopt_refund(difference_id=found[K.REFUND_STATE][0].pk, actor=finance)

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED


def test_a_fix_is_refused_for_a_difference_of_another_kind(paid_order, finance):
    dashboard_refund(paid_order, amount=1000, refund_application_fee=True)
    _, found = reconcile()

    with pytest.raises(FixRefused, match="is not the fix"):
        difference_apply_missed_event(difference_id=found[K.REFUND_STRIPE_ONLY][0].pk, actor=finance)
