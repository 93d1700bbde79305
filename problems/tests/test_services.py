"""Problem reports' rules: when a buyer may report, the seller's and the buyer's deadlines and the
beat that applies them, refunds through payments' refund service (the seller's, Support's within
its limits), the hold on feedback, the timeline, the emails, a card dispute on the same order and
the seller's public record."""

import datetime

import pytest
from django.core import mail

from core.errors import Conflict, PermissionDenied
from payments.models import OrderStatus, RefundApproval, RefundStatus
from payments.order_problems import order_problems
from payments.order_words import BUYER, SELLER, timeline_lines
from payments.selectors.orders import order_timeline
from payments.services.fulfilment import order_complete
from problems import services
from problems.models import ProblemOutcome, ProblemReport, ProblemStatus
from problems.selectors import orders_held, seller_problem_record
from problems.tests.conftest import days_after_payment
from ratings.services import FeedbackOnHold, feedback_leave

pytestmark = pytest.mark.django_db


def test_not_received_cannot_be_reported_inside_the_delivery_window(sale, settings):
    with pytest.raises(services.ReportTooEarly) as error:
        services.problem_report_open(
            order_id=sale.pk,
            buyer=sale.buyer,
            kind="not_received",
            description="Where is it?",
            now=days_after_payment(sale, 13.9),
        )
    assert "from" in error.value.message
    assert not ProblemReport.objects.exists()


def test_not_received_opens_after_the_delivery_window(sale, reported):
    report = reported(sale, days=14.01)
    assert report.status == ProblemStatus.AWAITING_SELLER
    assert report.seller_due_at == days_after_payment(sale, 14.01) + datetime.timedelta(days=3)
    assert report.conversation.order_id == sale.pk


def test_not_received_opens_n_days_after_shipping_without_delivery(shipped, settings):
    settings.PROBLEM_NOT_RECEIVED_AFTER_SHIPPING_DAYS = 7
    shipped_at = shipped.shipped_at
    with pytest.raises(services.ReportTooEarly):
        services.problem_report_open(
            order_id=shipped.pk,
            buyer=shipped.buyer,
            kind="not_received",
            description="x",
            now=shipped_at + datetime.timedelta(days=6),
        )
    report, _ = services.problem_report_open(
        order_id=shipped.pk,
        buyer=shipped.buyer,
        kind="not_received",
        description="x",
        now=shipped_at + datetime.timedelta(days=7, seconds=1),
    )
    assert report.kind == "not_received"


def test_not_as_described_needs_the_stub_shipped(sale):
    with pytest.raises(services.OrderNotReportable):
        services.problem_report_open(
            order_id=sale.pk,
            buyer=sale.buyer,
            kind="not_as_described",
            description="Torn",
            now=days_after_payment(sale, 1),
        )


def test_nothing_can_be_reported_after_the_last_day(shipped, settings):
    with pytest.raises(services.OrderNotReportable):
        services.problem_report_open(
            order_id=shipped.pk,
            buyer=shipped.buyer,
            kind="not_as_described",
            description="Torn",
            now=days_after_payment(shipped, 61),
        )


def test_reporting_twice_returns_the_first_report(sale, reported):
    first = reported(sale)
    again, created = services.problem_report_open(
        order_id=sale.pk,
        buyer=sale.buyer,
        kind="not_received",
        description="Again",
        now=days_after_payment(sale, 16),
    )
    assert (again.pk, created) == (first.pk, False)


def test_the_seller_who_does_not_answer_in_time_sends_the_report_to_support(sale, reported, committed):
    report = reported(sale)
    due = report.seller_due_at
    assert services.problem_deadlines_apply(now=due - datetime.timedelta(minutes=1)) == {
        "escalated": 0,
        "closed": 0,
    }
    mail.outbox.clear()
    with committed():
        assert services.problem_deadlines_apply(now=due) == {"escalated": 1, "closed": 0}
    report.refresh_from_db()
    assert (report.status, report.escalation) == (ProblemStatus.WITH_SUPPORT, "deadline")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([sale.buyer.email, sale.seller.email])
    assert "with Support" in mail.outbox[0].subject


def test_an_answer_starts_the_buyers_time_and_an_unescalated_answer_closes(sale, reported):
    report = reported(sale)
    answered_at = report.seller_due_at - datetime.timedelta(days=1)
    services.problem_reply(
        report_id=report.pk, seller=sale.seller, body="Posted on the 2nd, tracking 1Z.", now=answered_at
    )
    report.refresh_from_db()
    assert report.status == ProblemStatus.ANSWERED
    assert report.buyer_due_at == answered_at + datetime.timedelta(days=7)
    assert report.conversation.messages.get().body.startswith("Posted")
    assert services.problem_deadlines_apply(now=report.seller_due_at) == {"escalated": 0, "closed": 0}
    assert services.problem_deadlines_apply(now=report.buyer_due_at) == {"escalated": 0, "closed": 1}
    report.refresh_from_db()
    assert (report.status, report.outcome) == (ProblemStatus.CLOSED, ProblemOutcome.LAPSED)


def test_the_buyer_escalates_only_once_the_seller_answered_or_their_time_ran_out(sale, reported):
    report = reported(sale)
    with pytest.raises(services.SellerStillHasTime):
        services.problem_escalate(
            report_id=report.pk, buyer=sale.buyer, now=report.seller_due_at - datetime.timedelta(hours=1)
        )
    services.problem_escalate(report_id=report.pk, buyer=sale.buyer, now=report.seller_due_at)
    with pytest.raises(services.AlreadyEscalated):
        services.problem_escalate(report_id=report.pk, buyer=sale.buyer, now=report.seller_due_at)


def test_a_full_refund_by_the_seller_goes_through_the_refund_service_and_closes(sale, reported, committed):
    report = reported(sale)
    mail.outbox.clear()
    with committed():
        refund = services.problem_refund(report_id=report.pk, seller=sale.seller)
    assert (refund.amount_cents, refund.marketplace_reason, refund.status) == (
        5000,
        "not_received",
        RefundStatus.SUCCEEDED,
    )
    report.refresh_from_db()
    assert (report.status, report.outcome, report.refunded_cents) == ("closed", "refunded", 5000)
    assert any("refunded $50.00" in m.subject for m in mail.outbox)
    with pytest.raises(services.ReportClosed):
        services.problem_escalate(report_id=report.pk, buyer=sale.buyer, now=report.seller_due_at)


def test_a_part_refund_answers_the_report_and_the_buyer_may_still_escalate(sale, reported):
    report = reported(sale)
    services.problem_refund(report_id=report.pk, seller=sale.seller, amount_cents=1000)
    report.refresh_from_db()
    assert (report.status, report.refunded_cents) == (ProblemStatus.ANSWERED, 1000)
    services.problem_escalate(report_id=report.pk, buyer=sale.buyer)
    report.refresh_from_db()
    assert (report.status, report.escalation) == (ProblemStatus.WITH_SUPPORT, "buyer")


def test_the_same_refund_submitted_twice_is_counted_once(sale, reported):
    report = reported(sale)
    first = services.problem_refund(
        report_id=report.pk, seller=sale.seller, amount_cents=1000, request_token="t1"
    )
    again = services.problem_refund(
        report_id=report.pk, seller=sale.seller, amount_cents=1000, request_token="t1"
    )
    assert first.pk == again.pk
    report.refresh_from_db()
    assert report.refunded_cents == 1000


def test_support_refunds_a_report_with_support_within_its_limits(sale, reported, support, settings):
    settings.SUPPORT_REFUND_LIMIT_CENTS = 10000
    report = reported(sale)
    services.problem_deadlines_apply(now=report.seller_due_at)
    decided = services.problem_decide(
        report_id=report.pk, staff=support, decision="refund", note="Lost in the post."
    )
    assert (decided.status, decided.outcome, decided.decided_by) == ("closed", "support_refunded", support)
    refund = sale.refunds.get()
    assert (refund.by_support, refund.amount_cents, refund.requested_by) == (True, 5000, support)


def test_support_above_its_limit_leaves_the_refund_to_finance(sale, reported, support, settings):
    settings.SUPPORT_REFUND_LIMIT_CENTS = 2000
    report = reported(sale)
    services.problem_deadlines_apply(now=report.seller_due_at)
    result = services.problem_decide(report_id=report.pk, staff=support, decision="refund")
    assert isinstance(result, RefundApproval)
    assert not sale.refunds.exists()
    report.refresh_from_db()
    assert report.status == ProblemStatus.WITH_SUPPORT


def test_once_finance_approved_supports_request_the_decision_closes_the_report(
    sale, reported, support, finance, settings
):
    from payments.services.refunds import refund_approval_approve

    settings.SUPPORT_REFUND_LIMIT_CENTS = 2000
    report = reported(sale)
    services.problem_deadlines_apply(now=report.seller_due_at)
    approval = services.problem_decide(report_id=report.pk, staff=support, decision="refund")
    refund_approval_approve(approval_id=approval.pk, actor=finance)
    decided = services.problem_decide(report_id=report.pk, staff=support, decision="refund", note="Approved.")
    assert (decided.status, decided.outcome) == ("closed", "support_refunded")
    assert sale.refunds.count() == 1


def test_support_declines_with_a_note_and_only_when_with_support(sale, reported, support, stranger):
    report = reported(sale)
    with pytest.raises(services.NotWithSupport):
        services.problem_decide(report_id=report.pk, staff=support, decision="decline", note="Tracked.")
    with pytest.raises(PermissionDenied):
        services.problem_decide(report_id=report.pk, staff=stranger, decision="decline", note="x")
    services.problem_deadlines_apply(now=report.seller_due_at)
    with pytest.raises(Exception, match="Say what is wrong"):
        services.problem_decide(report_id=report.pk, staff=support, decision="decline", note="")
    services.problem_decide(
        report_id=report.pk, staff=support, decision="decline", note="Delivered per tracking."
    )
    report.refresh_from_db()
    assert (report.outcome, report.decision_note) == ("support_declined", "Delivered per tracking.")
    assert not sale.refunds.exists()


def test_an_open_report_holds_feedback_and_is_left_out_of_completion(shipped, reported):
    report = reported(shipped, kind="not_as_described", days=5)
    order_complete(order_id=shipped.pk, buyer=shipped.buyer)
    shipped.refresh_from_db()
    assert order_problems().holds(shipped)
    assert not type(shipped).objects.filter(pk=shipped.pk).exclude(orders_held()).exists()
    with pytest.raises(FeedbackOnHold):
        feedback_leave(order_id=shipped.pk, buyer=shipped.buyer, rating=2)
    services.problem_close(report_id=report.pk, buyer=shipped.buyer)
    assert not order_problems().holds(shipped)
    assert feedback_leave(order_id=shipped.pk, buyer=shipped.buyer, rating=4).rating == 4


def test_each_step_is_on_the_timeline_in_each_partys_words(sale, reported, support):
    report = reported(sale)
    services.problem_deadlines_apply(now=report.seller_due_at)
    services.problem_decide(report_id=report.pk, staff=support, decision="refund")
    events = order_timeline(order=sale)
    buyer_lines = [line.text for line in timeline_lines(order=sale, events=events, attempts=[], reader=BUYER)]
    seller_lines = [
        line.text for line in timeline_lines(order=sale, events=events, attempts=[], reader=SELLER)
    ]
    assert "You reported a problem: not received" in buyer_lines
    assert "The buyer reported a problem: not received" in seller_lines
    assert "The seller did not answer in time: the report went to our Support team" in buyer_lines
    assert "Our Support team refunded $50.00 through the problem report" in seller_lines
    assert "Problem report closed: refunded by Support" in buyer_lines
    actions = set(sale.audit_events.values_list("action", flat=True))
    assert {"problem.reported", "problem.escalated", "problem.refunded", "problem.closed"} <= actions


def test_the_sellers_record_counts_resolved_reports(sale, reported):
    report = reported(sale)
    assert seller_problem_record(seller_id=sale.seller_id) == {"closed": 0, "resolved": 0}
    services.problem_refund(report_id=report.pk, seller=sale.seller)
    assert seller_problem_record(seller_id=sale.seller_id) == {"closed": 1, "resolved": 1}


def test_a_card_dispute_on_the_order_is_linked_to_its_report(sale, reported):
    from payments.services.orders import order_transition

    report = reported(sale)
    order_transition(order=sale, to=OrderStatus.DISPUTED, message="Dispute opened")
    report.refresh_from_db()
    assert report.dispute_opened_at is not None
    assert sale.audit_events.filter(action="problem.dispute_linked").exists()


def test_only_the_parties_act_on_a_report(sale, reported, stranger):
    report = reported(sale)
    with pytest.raises(services.ProblemNotFound):
        services.problem_escalate(report_id=report.pk, buyer=stranger)
    with pytest.raises(PermissionDenied):
        services.problem_reply(report_id=report.pk, seller=sale.buyer, body="I am the buyer")
    services.problem_close(report_id=report.pk, buyer=sale.buyer)
    with pytest.raises(Conflict):
        services.problem_close(report_id=report.pk, buyer=sale.buyer)


def test_each_step_emails_the_party_it_concerns(shipped, reported, committed):
    with committed():
        report = reported(shipped, kind="not_as_described", days=5)
    assert sorted((m.to[0], m.subject.split(":")[0]) for m in mail.outbox) == sorted(
        [
            (shipped.seller.email, "A buyer reported a problem"),
            (shipped.buyer.email, "We have told the seller"),
        ]
    )
    mail.outbox.clear()
    with committed():
        services.problem_reply(report_id=report.pk, seller=shipped.seller, body="It left in perfect shape.")
    assert [(m.to[0], m.subject.split(":")[0]) for m in mail.outbox if "problem" in m.body.lower()] == [
        (shipped.buyer.email, "The seller answered your report")
    ]
    mail.outbox.clear()
    with committed():
        services.problem_close(report_id=report.pk, buyer=shipped.buyer)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([shipped.buyer.email, shipped.seller.email])
    assert all(m.subject.startswith("Problem report closed") for m in mail.outbox)
    assert f"/problems/{report.pk}/" in mail.outbox[0].body
