"""The emails of a problem report's steps: one template (templates/emails/problem_update.*) with
the step's words for each party, queued after the commit (core.email)."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from core.email import email_send
from core.site import absolute_url
from problems.models import ProblemReport


def _when(value) -> str:
    return date_format(timezone.localtime(value), "j F Y, H:i") if value else ""


def problem_email(*, report: ProblemReport, to: str, headline: str, lines: list[str]) -> None:
    """Email the report's buyer ("buyer") or seller ("seller") about a step, after the commit."""
    recipient = report.buyer if to == "buyer" else report.seller
    stub = report.order.listing.stub
    context = {
        "recipient": recipient,
        "headline": headline,
        "lines": lines,
        "report": report,
        "stub": stub,
        "url": absolute_url(reverse("problems:report", args=[report.pk])),
    }
    subject = f"{headline}: order #{report.order_id}, {stub.event_name}"
    transaction.on_commit(
        lambda: email_send(to=recipient.email, subject=subject, template="problem_update", context=context)
    )


def notify_reported(report: ProblemReport) -> None:
    due = _when(report.seller_due_at)
    problem_email(
        report=report,
        to="seller",
        headline="A buyer reported a problem",
        lines=[
            f"{report.buyer.display_name} reports: {report.get_kind_display().lower()}.",
            f"Please answer by {due}: refund in full or in part, or reply on the report's page. "
            "If there is no answer by then, our Support team decides.",
        ],
    )
    problem_email(
        report=report,
        to="buyer",
        headline="We have told the seller",
        lines=[
            f"You reported: {report.get_kind_display().lower()}. The seller has until {due} to answer; "
            "if they do not, our Support team takes it up.",
        ],
    )


def notify_answered(report: ProblemReport) -> None:
    problem_email(
        report=report,
        to="buyer",
        headline="The seller answered your report",
        lines=[
            "Read the answer on the report's page.",
            f"If it does not settle the problem, you can ask our Support team to decide until "
            f"{_when(report.buyer_due_at)}.",
        ],
    )


def notify_refunded(report: ProblemReport, *, amount: str, closed: bool, by_support: bool) -> None:
    who = "Our Support team" if by_support else "The seller"
    tail = "The report is closed." if closed else "The report stays open."
    problem_email(
        report=report,
        to="buyer",
        headline=f"{who} refunded {amount}",
        lines=[
            f"{who} refunded {amount} of order #{report.order_id} to your card. {tail}",
        ],
    )
    if by_support:
        problem_email(
            report=report,
            to="seller",
            headline="Support refunded the buyer",
            lines=[
                f"Our Support team refunded {amount} of order #{report.order_id} to the buyer. {tail}",
                report.decision_note,
            ],
        )


def notify_escalated(report: ProblemReport) -> None:
    why = (
        "The seller did not answer in time"
        if report.escalation == "deadline"
        else "The buyer asked our Support team to decide"
    )
    for to in ("buyer", "seller"):
        problem_email(
            report=report,
            to=to,
            headline="Your problem report is with Support",
            lines=[
                f"{why}. Our Support team will read the report and its messages and decide; "
                "we will email you when they have.",
            ],
        )


def notify_closed(report: ProblemReport) -> None:
    words = {
        "buyer_closed": "The buyer closed the report.",
        "lapsed": "The buyer did not take the seller's answer to Support in time, so the report is closed.",
        "support_declined": "Our Support team decided for the seller: no refund is due.",
    }.get(report.outcome, f"The report is closed: {report.get_outcome_display().lower()}.")
    for to in ("buyer", "seller"):
        problem_email(
            report=report, to=to, headline="Problem report closed", lines=[words, report.decision_note]
        )
