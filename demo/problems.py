"""Demo problem reports (seed_demo): one open and one resolved, on two of the demo orders shipped
with tracking, so the order pages, the report pages, Support's view in admin and the seller's
"problems resolved" line have something to show. Made through the problems services as a buyer
and a seller would, after dating the orders back past the delivery window."""

from datetime import timedelta

from django.utils import timezone

from core.errors import DomainError
from payments.models import Order, OrderStatus
from problems.services import problem_close, problem_refund, problem_reply, problem_report_open

OPEN_REPORT = (
    "It has been over two weeks and nothing has arrived. "
    "The tracking number has not moved since it was posted."
)
RESOLVED_REPORT = "The stub has a tear across the date that the photos did not show."
RESOLVED_REPLY = "I am sorry, I missed it when I packed it. I have refunded you in full; keep the stub."


def create_demo_problem_reports(*, orders, log=None) -> list:
    """Reports on the first two shipped demo orders: the first waits for its seller, the second
    was refunded in full by its seller (or closed by its buyer when the sandbox refused the
    refund). Returns the reports."""
    shipped = [order for order in orders if order.status == OrderStatus.SHIPPED][:2]
    now = timezone.now()
    reports = []
    for index, order in enumerate(shipped):
        Order.objects.filter(pk=order.pk).update(
            paid_at=now - timedelta(days=18 + index), shipped_at=now - timedelta(days=16 + index)
        )
        kind, text = ("not_received", OPEN_REPORT) if index == 0 else ("not_as_described", RESOLVED_REPORT)
        report, _ = problem_report_open(order_id=order.pk, buyer=order.buyer, kind=kind, description=text)
        if index == 1:
            problem_reply(report_id=report.pk, seller=order.seller, body=RESOLVED_REPLY)
            try:
                problem_refund(report_id=report.pk, seller=order.seller)
            except DomainError as error:
                if log:
                    log(f"The demo report's refund was refused ({error.message}); its buyer closes it")
                problem_close(report_id=report.pk, buyer=order.buyer)
        reports.append(report)
    return reports
