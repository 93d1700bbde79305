"""Disputes end to end through the sandbox and the real webhook views: the 0259 card opens one,
the seller is emailed and adds their side, staff save evidence as a draft then submit it,
Stripe's test-mode evidence decides (won / lost), an inquiry, accepting, the due-date list,
the funds events and a status we do not know."""

import datetime
import io

import pytest
import stripe
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.errors import PermissionDenied
from disputes import services as dispute_services
from disputes.models import Dispute
from payments.models import AuditEvent, Order, OrderStatus, PaymentStatus
from payments.staff import FINANCE, SUPPORT
from payments.tests.webhook_support import (
    CONNECT_PATH,
    make_event,
    pay,
    post_event,
    sandbox_order,
    sandbox_order_bought,
)
from testing import paid_snapshot

pytestmark = pytest.mark.django_db


def _disputed_order_build(sandbox) -> int:
    return sandbox_order_bought(sandbox, "pm_card_createDispute", shipping_name="Ada Lovelace").pk


@pytest.fixture
@paid_snapshot.shared(_disputed_order_build)
def disputed_order(webhook_sandbox, client, request):
    """Paid with Stripe's 0259 card (disputed right after paying), shipped before it arrived;
    made once for the tests that take it (testing/paid_snapshot.py)."""
    return paid_snapshot.take(request, webhook_sandbox, client, _disputed_order_build)


def transitions(order):
    return list(AuditEvent.objects.filter(order=order, action="order.transition")
                .order_by("id").values_list("to_status", flat=True))


def actions(order):
    return list(AuditEvent.objects.filter(order=order, action__startswith="dispute.")
                .order_by("id").values_list("action", flat=True))


def test_the_0259_card_opens_a_dispute_row_and_emails_the_seller(disputed_order):
    dispute = Dispute.objects.get(order=disputed_order)
    assert disputed_order.status == OrderStatus.DISPUTED
    assert (dispute.status, dispute.reason, dispute.amount_cents) == ("needs_response", "fraudulent", 5000)
    assert not dispute.is_inquiry and dispute.stripe_account_id == disputed_order.stripe_account_id
    assert dispute.evidence_due_by > timezone.now() + datetime.timedelta(days=6)
    (message,) = [m for m in mail.outbox if m.to == ["seller@example.com"] and "dispute" in m.subject.lower()]
    assert f"order #{disputed_order.pk}" in message.subject
    assert "$50.00" in message.body and "did not make this payment" in message.body
    assert dispute.evidence_due_by.strftime("%-d %B %Y") in message.body
    assert "tracking number" in message.body and f"/orders/{disputed_order.pk}/" in message.body
    assert actions(disputed_order) == ["dispute.opened", "dispute.funds_withdrawn"]


def test_evidence_is_prefilled_from_the_order_and_the_sellers_side(disputed_order):
    disputed_order.tracking_number = ""
    disputed_order.save()
    dispute_services.dispute_seller_note_save(order_id=disputed_order.pk, seller=disputed_order.seller,
                                              note="Posted it first class; buyer wrote to thank me.",
                                              tracking_number="1Z999AA10123456784")
    dispute = Dispute.objects.get(order=disputed_order)

    evidence = dispute_services.dispute_evidence_prefill(dispute=dispute)

    stub = disputed_order.listing.stub
    assert stub.event_name in evidence["product_description"]
    assert evidence["customer_name"] == "Ada Lovelace"
    assert evidence["customer_email_address"] == disputed_order.buyer.email
    assert disputed_order.shipping_line1 in evidence["shipping_address"]
    assert evidence["shipping_tracking_number"] == "1Z999AA10123456784"
    assert evidence["uncategorized_text"] == "Posted it first class; buyer wrote to thank me."


def test_the_ship_date_and_tracking_come_from_mark_shipped(webhook_sandbox, deliver_all):
    order = sandbox_order(webhook_sandbox)
    pay(order)
    deliver_all()
    order.refresh_from_db()
    from payments.services.fulfilment import order_ship

    order_ship(order_id=order.pk, seller=order.seller, tracking_number="9400111899223")
    Order.objects.filter(pk=order.pk).update(shipping_carrier="usps")  # the seller's pick on "Mark shipped"
    webhook_sandbox.open_dispute(stripe.PaymentIntent.retrieve(
        order.payment_intent_id, stripe_account=order.stripe_account_id).latest_charge)
    deliver_all()
    order.refresh_from_db()

    evidence = dispute_services.dispute_evidence_prefill(dispute=Dispute.objects.get(order=order))
    assert evidence["shipping_tracking_number"] == "9400111899223"
    assert evidence["shipping_date"] == order.shipped_at.date().isoformat()
    assert evidence["shipping_carrier"] == "USPS"


def test_a_draft_stays_on_stripe_unsent_then_winning_evidence_wins(disputed_order, support, deliver_all):
    dispute = Dispute.objects.get(order=disputed_order)
    evidence = dispute_services.dispute_evidence_initial(dispute=dispute)

    dispute_services.dispute_respond(dispute_id=dispute.pk, evidence=evidence, submit=False, actor=support)
    deliver_all()
    on_stripe = stripe.Dispute.retrieve(dispute.stripe_dispute_id, stripe_account=dispute.stripe_account_id)
    dispute.refresh_from_db()
    assert on_stripe.status == "needs_response" and on_stripe.evidence_details.submission_count == 0
    assert on_stripe.evidence.customer_name == "Ada Lovelace"
    assert dispute.evidence_draft["customer_name"] == "Ada Lovelace" and dispute.submitted_at is None

    mail.outbox.clear()
    dispute_services.dispute_respond(dispute_id=dispute.pk, submit=True, actor=support,
                                     evidence={**evidence, "uncategorized_text": "winning_evidence"})
    deliver_all()

    dispute.refresh_from_db()
    disputed_order.refresh_from_db()
    assert (dispute.status, dispute.outcome, dispute.submission_count) == ("won", "won", 1)
    assert dispute.submitted_at is not None and dispute.closed_at is not None
    assert disputed_order.status == OrderStatus.PAID
    assert disputed_order.payment.status == PaymentStatus.SUCCEEDED
    assert transitions(disputed_order) == ["paid", "disputed", "paid"]
    (told,) = [m for m in mail.outbox if "dispute" in m.subject.lower()]
    assert told.to == ["seller@example.com"]
    assert "you won" in told.subject and "back in your Stripe balance" in told.body
    # Each event re-reads the dispute: the first one after the decision already finds it won.
    assert actions(disputed_order) == [
        "dispute.opened", "dispute.funds_withdrawn", "dispute.evidence_draft_saved",
        "dispute.evidence_submitted", "dispute.closed", "dispute.funds_reinstated",
    ]
    submitted = AuditEvent.objects.get(order=disputed_order, action="dispute.evidence_submitted")
    assert submitted.actor == support


def test_losing_evidence_loses_and_the_order_ends_dispute_lost(disputed_order, support, deliver_all):
    dispute = Dispute.objects.get(order=disputed_order)
    mail.outbox.clear()

    dispute_services.dispute_respond(dispute_id=dispute.pk, submit=True, actor=support,
                                     evidence={"uncategorized_text": "losing_evidence"})
    deliver_all()

    dispute.refresh_from_db()
    disputed_order.refresh_from_db()
    assert (dispute.status, dispute.outcome) == ("lost", "lost")
    assert disputed_order.status == OrderStatus.DISPUTE_LOST
    assert disputed_order.payment.status == PaymentStatus.DISPUTE_LOST
    (told,) = [m for m in mail.outbox if "dispute" in m.subject.lower()]
    assert "you lost" in told.subject and "went back to them" in told.body


def test_a_dispute_left_unanswered_past_its_deadline_is_lost(disputed_order, webhook_sandbox, deliver_all):
    webhook_sandbox.advance_time(8 * 86400)
    deliver_all()

    disputed_order.refresh_from_db()
    dispute = Dispute.objects.get(order=disputed_order)
    assert dispute.outcome == "lost" and disputed_order.status == OrderStatus.DISPUTE_LOST
    assert any("you lost" in m.subject for m in mail.outbox)


def test_submitting_twice_is_refused_and_sends_once(disputed_order, support, deliver_all):
    dispute = Dispute.objects.get(order=disputed_order)
    dispute_services.dispute_respond(dispute_id=dispute.pk, submit=True, actor=support,
                                     evidence={"product_description": "A stub"})

    with pytest.raises(dispute_services.DisputeAlreadySubmitted):
        dispute_services.dispute_respond(dispute_id=dispute.pk, submit=True, actor=support,
                                         evidence={"product_description": "A stub"})
    assert AuditEvent.objects.filter(action="stripe.dispute.update", order=disputed_order).count() == 1
    deliver_all()
    dispute.refresh_from_db()
    assert dispute.status == "under_review"


def test_accepting_closes_it_lost_on_stripe_and_the_order_follows(disputed_order, support, deliver_all):
    dispute = Dispute.objects.get(order=disputed_order)

    dispute_services.dispute_accept(dispute_id=dispute.pk, actor=support)
    deliver_all()

    dispute.refresh_from_db()
    disputed_order.refresh_from_db()
    assert dispute.status == "lost" and dispute.accepted_at is not None
    assert disputed_order.status == OrderStatus.DISPUTE_LOST
    assert "dispute.accepted" in actions(disputed_order)
    with pytest.raises(dispute_services.DisputeNotAnswerable):
        dispute_services.dispute_accept(dispute_id=dispute.pk, actor=support)


def test_only_support_and_finance_roles_may_answer(disputed_order, support):
    assert dispute_services.dispute_can_respond(user=support)
    dispute = Dispute.objects.get(order=disputed_order)
    plain_staff = UserFactory(is_staff=True)
    seller = disputed_order.seller
    for user in (plain_staff, seller):
        with pytest.raises(PermissionDenied):
            dispute_services.dispute_respond(dispute_id=dispute.pk, evidence={}, submit=True, actor=user)
        with pytest.raises(PermissionDenied):
            dispute_services.dispute_accept(dispute_id=dispute.pk, actor=user)
    finance = UserFactory(is_staff=True)
    finance.groups.add(Group.objects.get(name=FINANCE))
    assert dispute_services.dispute_can_respond(user=finance)
    dispute_services.dispute_respond(dispute_id=dispute.pk, evidence={"product_description": "A stub"},
                                     submit=False, actor=finance)
    not_staff = UserFactory(is_staff=False)
    not_staff.groups.add(Group.objects.get(name=SUPPORT))  # the role without staff access
    assert not dispute_services.dispute_can_respond(user=not_staff)


def test_an_inquiry_marks_the_order_disputed_and_closes_back_when_answered(
    webhook_sandbox, support, deliver_all
):
    order = sandbox_order(webhook_sandbox)
    pay(order, "pm_card_createDisputeInquiry")
    deliver_all()
    dispute = Dispute.objects.get(order=order)
    order.refresh_from_db()
    assert dispute.is_inquiry and dispute.status == "warning_needs_response"
    assert order.status == OrderStatus.DISPUTED
    assert "dispute.funds_withdrawn" not in actions(order)  # an inquiry takes no money

    dispute_services.dispute_respond(dispute_id=dispute.pk, submit=True, actor=support,
                                     evidence={"uncategorized_text": "winning_evidence"})
    deliver_all()

    dispute.refresh_from_db()
    order.refresh_from_db()
    assert dispute.status == dispute.outcome == "warning_closed"
    assert order.status == OrderStatus.PAID


def test_an_inquiry_lost_becomes_a_chargeback_that_can_be_answered_again(
    order_paid_with, support, deliver_all
):
    order = order_paid_with("pm_card_createDisputeInquiry")
    dispute = Dispute.objects.get(order=order)
    mail.outbox.clear()

    dispute_services.dispute_respond(dispute_id=dispute.pk, submit=True, actor=support,
                                     evidence={"uncategorized_text": "losing_evidence"})
    deliver_all()

    dispute.refresh_from_db()
    order.refresh_from_db()
    assert (dispute.status, dispute.is_inquiry, dispute.outcome) == ("needs_response", False, "")
    assert dispute.submitted_at is None and dispute.needs_response
    assert order.status == OrderStatus.DISPUTED
    assert "dispute.funds_withdrawn" in actions(order) and "dispute.escalated" in actions(order)
    told = [m for m in mail.outbox if "dispute" in m.subject.lower()]
    assert [m.to for m in told] == [["seller@example.com"]]  # told again: money taken now
    assert "A dispute on order" in told[0].subject

    dispute_services.dispute_respond(dispute_id=dispute.pk, submit=True, actor=support,
                                     evidence={"uncategorized_text": "winning_evidence"})
    deliver_all()
    dispute.refresh_from_db()
    order.refresh_from_db()
    assert dispute.outcome == "won" and order.status == OrderStatus.PAID


def test_a_prevented_inquiry_ends_with_the_buyer_refunded_not_won(webhook_sandbox, deliver_all):
    order = sandbox_order(webhook_sandbox)
    pay(order, "pm_card_createDisputeInquiry")
    deliver_all()
    dispute = Dispute.objects.get(order=order)

    webhook_sandbox.resolve_dispute(dispute.stripe_dispute_id, "prevented")
    deliver_all()

    dispute.refresh_from_db()
    order.refresh_from_db()
    # Prevention settles it by refunding the buyer (payments/tests/test_inquiry_outcomes.py).
    assert dispute.outcome == "prevented" and order.status == OrderStatus.REFUNDED


def test_a_status_we_do_not_know_is_audited_and_leaves_the_order(disputed_order, client, webhook_sandbox):
    dispute = Dispute.objects.get(order=disputed_order)
    stored = webhook_sandbox.api.find_anywhere("dispute", dispute.stripe_dispute_id)
    stored["status"] = "needs_arbitration"  # a status Stripe might add one day
    event = make_event("charge.dispute.updated", {"id": dispute.stripe_dispute_id, "object": "dispute"},
                       account=disputed_order.stripe_account_id)

    response = post_event(client, event, path=CONNECT_PATH)

    assert response.status_code == 200
    dispute.refresh_from_db()
    disputed_order.refresh_from_db()
    assert dispute.status == "needs_arbitration" and disputed_order.status == OrderStatus.DISPUTED
    audit = AuditEvent.objects.get(order=disputed_order, action="dispute.status_unknown")
    assert "needs_arbitration" in audit.message


def test_a_closed_dispute_is_not_reopened_by_an_older_event(
    disputed_order, client, webhook_sandbox, deliver_all
):
    (created,) = webhook_sandbox.events(type="charge.dispute.created")
    dispute = Dispute.objects.get(order=disputed_order)
    webhook_sandbox.resolve_dispute(dispute.stripe_dispute_id, "lost")
    deliver_all()

    post_event(client, created, path=CONNECT_PATH)  # redelivered late: a new id would be needed to apply
    stored = webhook_sandbox.api.find_anywhere("dispute", dispute.stripe_dispute_id)
    stored["status"] = "needs_response"  # an older read, as if Stripe answered from a stale replica
    post_event(client, make_event("charge.dispute.updated", {"id": dispute.stripe_dispute_id},
                                  account=disputed_order.stripe_account_id), path=CONNECT_PATH)

    dispute.refresh_from_db()
    disputed_order.refresh_from_db()
    assert dispute.status == "lost" and disputed_order.status == OrderStatus.DISPUTE_LOST
    assert AuditEvent.objects.filter(order=disputed_order, action="dispute.closed").count() == 1


def test_the_disputes_list_is_sorted_by_evidence_due_date(admin_client, webhook_sandbox, deliver_all):
    orders = []
    for _ in range(3):
        order = sandbox_order(webhook_sandbox)
        pay(order, "pm_card_createDispute")
        deliver_all()  # one order's events at a time: a flush has a time budget
        orders.append(order)
    now = timezone.now()
    # Deadlines in the reverse order of opening: the last one is due first.
    for days, order in zip((9, 5, 2), orders, strict=True):
        due = now + datetime.timedelta(days=days, hours=1)
        Dispute.objects.filter(order=order).update(evidence_due_by=due)
    closed = Dispute.objects.get(order=orders[1])
    webhook_sandbox.resolve_dispute(closed.stripe_dispute_id, "won")
    deliver_all()

    page = admin_client.get("/admin/disputes/dispute/").content.decode()

    positions = [page.index(f">#{order.pk}</a>") for order in (orders[2], orders[0], orders[1])]
    assert positions == sorted(positions)  # open ones by deadline, then the closed one
    assert "2 days left" in page and "9 days left" in page and "$50.00" in page
    assert orders[0].seller.username in page

    inquiry_filter = admin_client.get("/admin/disputes/dispute/?status__exact=warning_needs_response")
    assert inquiry_filter.status_code == 200
    assert f">#{orders[0].pk}</a>" not in inquiry_filter.content.decode()
    prevented = admin_client.get("/admin/disputes/dispute/?status__exact=prevented")
    assert prevented.status_code == 200
    open_only = admin_client.get("/admin/disputes/dispute/?state=open").content.decode()
    assert f">#{orders[1].pk}</a>" not in open_only and f">#{orders[2].pk}</a>" in open_only


# Stripe's full status set: what each one does to the order (disputes/services.py).
STATUS_RULES = [
    ("warning_needs_response", OrderStatus.DISPUTED),
    ("warning_under_review", OrderStatus.DISPUTED),
    ("needs_response", OrderStatus.DISPUTED),
    ("under_review", OrderStatus.DISPUTED),
    ("warning_closed", OrderStatus.PAID),
    ("prevented", OrderStatus.PAID),
    ("won", OrderStatus.PAID),
    ("lost", OrderStatus.DISPUTE_LOST),
    # An inquiry closed as lost (accepted): Stripe took no money, so the order goes back.
    ("lost-inquiry", OrderStatus.PAID),
]


@pytest.mark.parametrize(("status", "order_status"), STATUS_RULES)
def test_every_stripe_dispute_status_moves_the_order_by_the_rules(client, webhook_sandbox, deliver_all,
                                                                  status, order_status):
    order = sandbox_order(webhook_sandbox)
    pay(order, "pm_card_createDisputeInquiry")
    deliver_all()
    dispute = Dispute.objects.get(order=order)
    stored = webhook_sandbox.api.find_anywhere("dispute", dispute.stripe_dispute_id)
    status, _, kind = status.partition("-")
    if not kind and not status.startswith("warning_"):
        stored["payment_method_details"]["card"]["case_type"] = "chargeback"
    stored["status"] = status  # as Stripe would answer the re-read

    response = post_event(client, make_event("charge.dispute.updated", {"id": dispute.stripe_dispute_id},
                                             account=order.stripe_account_id), path=CONNECT_PATH)

    assert response.status_code == 200
    order.refresh_from_db()
    dispute.refresh_from_db()
    assert order.status == order_status and dispute.status == status
    assert dispute.get_status_display() != status  # a label of its own for every status
    assert not AuditEvent.objects.filter(order=order, action="dispute.status_unknown").exists()


def test_a_seller_who_has_not_answered_is_reminded_once_near_the_deadline(
    disputed_order, django_capture_on_commit_callbacks
):
    dispute = Dispute.objects.get(order=disputed_order)
    mail.outbox.clear()
    assert dispute_services.dispute_deadline_reminders_send() == 0  # 7 days left: not yet

    near = dispute.evidence_due_by - datetime.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert dispute_services.dispute_deadline_reminders_send(now=near) == 1
        assert dispute_services.dispute_deadline_reminders_send(now=near) == 0  # once
        call_command("send_dispute_reminders", stdout=io.StringIO())

    (message,) = mail.outbox
    assert message.to == ["seller@example.com"] and "Reminder" in message.subject
    assert f"/orders/{disputed_order.pk}/" in message.body and "deadline is near" in message.body


def test_a_seller_who_added_their_side_is_not_reminded(disputed_order):
    dispute = Dispute.objects.get(order=disputed_order)
    dispute_services.dispute_seller_note_save(order_id=disputed_order.pk, seller=disputed_order.seller,
                                              note="Shipped Monday.")
    near = dispute.evidence_due_by - datetime.timedelta(days=1)
    assert dispute_services.dispute_deadline_reminders_send(now=near) == 0


def test_beat_runs_the_reminders_hourly_under_the_name_it_had_in_payments(disputed_order):
    from celery import current_app  # the project's Celery app (stubcollector/celery.py)

    from disputes.tasks import send_dispute_reminders

    assert send_dispute_reminders.name == "payments.tasks.send_dispute_reminders"
    schedule = current_app.conf.beat_schedule.values()
    (entry,) = [e for e in schedule if e["task"] == send_dispute_reminders.name]
    assert entry["schedule"].minute == {0}
    Dispute.objects.filter(order=disputed_order).update(
        evidence_due_by=timezone.now() + datetime.timedelta(days=2))
    assert send_dispute_reminders.apply().get() == 1

