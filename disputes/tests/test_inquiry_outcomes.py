"""Inquiries and how disputes end, through the sandbox, the real SDK and the real webhook views:
an inquiry's charge can still be refunded (Stripe's `is_charge_refundable`) and a full refund
settles the order; a chargeback's cannot; `prevented` is an outcome of its own, not a win; and
"Accept" on an inquiry says, and does, what Stripe does: closed as lost, no money moved."""

import pytest
from django.core import mail

from disputes import services as dispute_services
from disputes.models import Dispute
from payments.models import AuditEvent, OrderStatus, RefundStatus
from payments.services.refunds import OrderNotRefundable, refund_request
from payments.staff import FINANCE
from payments.tests.factories import staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():
    return staff_member(FINANCE, username="finance")


def _disputed(order_paid_with, card):
    order = order_paid_with(card)
    return order, Dispute.objects.get(order=order)


def test_staff_can_refund_an_inquiry_in_full_and_the_order_ends_refunded(
    order_paid_with, webhook_sandbox, deliver_all, finance
):
    order, dispute = _disputed(order_paid_with, "pm_card_createDisputeInquiry")
    assert order.status == OrderStatus.DISPUTED and dispute.charge_refundable

    refund = refund_request(order_id=order.pk, actor=finance)
    webhook_sandbox.settle_refunds(refund.stripe_refund_id)  # the seller's balance was still pending
    deliver_all()

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.amount_cents == order.amount_cents
    assert order.status == OrderStatus.REFUNDED
    assert order.listing.status == "active"  # never shipped: back on sale


def test_a_chargeback_still_cannot_be_refunded(order_paid_with, webhook_sandbox, deliver_all, finance):
    order, dispute = _disputed(order_paid_with, "pm_card_createDispute")
    assert not dispute.charge_refundable

    with pytest.raises(OrderNotRefundable):
        refund_request(order_id=order.pk, actor=finance)


def test_an_inquiry_escalating_after_a_full_refund_takes_no_money(
    order_paid_with, webhook_sandbox, deliver_all, finance, support
):
    order, dispute = _disputed(order_paid_with, "pm_card_createDisputeInquiry")
    refund_request(order_id=order.pk, actor=finance)
    deliver_all()

    dispute_services.dispute_respond(dispute_id=dispute.pk, submit=True, actor=support,
                                     evidence={"uncategorized_text": "losing_evidence"})
    deliver_all()

    order.refresh_from_db()
    dispute.refresh_from_db()
    assert dispute.status == "needs_response" and order.status == OrderStatus.REFUNDED
    assert not AuditEvent.objects.filter(order=order, action="dispute.funds_withdrawn").exists()


def test_a_prevented_dispute_is_its_own_outcome_not_a_win(
    order_paid_with, webhook_sandbox, deliver_all, client
):
    order, dispute = _disputed(order_paid_with, "pm_card_createDisputeInquiry")
    mail.outbox.clear()

    webhook_sandbox.resolve_dispute(dispute.stripe_dispute_id, "prevented")
    deliver_all()

    dispute.refresh_from_db()
    order.refresh_from_db()
    assert dispute.outcome == "prevented"
    # Stripe's prevention refunded the buyer: the order says so, not "back to paid".
    assert order.status == OrderStatus.REFUNDED
    moves = AuditEvent.objects.filter(order=order, action="order.transition").values_list("message",
                                                                                           flat=True)
    assert not any("favour" in message for message in moves)
    assert "prevented" in AuditEvent.objects.get(order=order, action="dispute.closed").message
    (closed,) = [m for m in mail.outbox if "is closed" in m.subject]
    assert "not won" in closed.subject and "not a win" in closed.body
    assert "you won" not in closed.body.lower()
    client.force_login(order.buyer)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "settled before it became a chargeback" in page
    assert "nothing won back" in dispute.status_for_seller


def test_the_accept_button_on_an_inquiry_says_no_money_moves(
    order_paid_with, webhook_sandbox, deliver_all, client, support
):
    order, dispute = _disputed(order_paid_with, "pm_card_createDisputeInquiry")
    client.force_login(support)

    page = client.get(f"/admin/disputes/dispute/{dispute.pk}/respond/").content.decode()

    assert "Accept the inquiry (closes it as lost; no money moves)" in page
    assert "their bank may still open a chargeback" in page and "refund the order instead" in page
    assert f'href="/admin/payments/order/{order.pk}/refund/" id="refund-instead"' in page
    client.force_login(staff_member(FINANCE, username="finance2"))
    assert f"/admin/payments/order/{order.pk}/refund/" in client.get(
        f"/admin/payments/order/{order.pk}/change/").content.decode()  # the order page offers it too


def test_accepting_an_inquiry_closes_it_lost_without_money_and_the_order_stays_refundable(
    order_paid_with, webhook_sandbox, deliver_all, support, finance
):
    order, dispute = _disputed(order_paid_with, "pm_card_createDisputeInquiry")
    mail.outbox.clear()

    dispute_services.dispute_accept(dispute_id=dispute.pk, actor=support)
    deliver_all()

    dispute.refresh_from_db()
    order.refresh_from_db()
    assert dispute.status == dispute.outcome == "lost" and dispute.lost_without_money
    assert order.status == OrderStatus.PAID  # nothing was taken: not "dispute lost"
    accepted = AuditEvent.objects.get(order=order, action="dispute.accepted")
    assert "No money moves" in accepted.message
    (closed,) = [m for m in mail.outbox if "is closed" in m.subject]
    assert "no money moved" in closed.subject
    refund = refund_request(order_id=order.pk, actor=finance)
    assert refund.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED) and refund.stripe_refund_id
