"""Reads of problem reports: one for a party (404 for anybody else), the order's, the open ones
(the hold on feedback, Support's queue) and each seller's public record."""

from django.db.models import Count, Q, QuerySet

from core.errors import NotFound
from payments.models import Order
from problems.models import OPEN_STATUSES, RESOLVED_OUTCOMES, ProblemReport, ProblemStatus


class ProblemNotFound(NotFound):
    code = "problem_not_found"
    message = "No such problem report."


def report_for_party(*, report_id, user) -> ProblemReport:
    """The report if `user` is its buyer or seller; ProblemNotFound for everybody else (staff
    read reports in admin), so nobody learns that it exists."""
    try:
        return ProblemReport.objects.select_related(
            "order__listing__stub", "buyer", "seller", "conversation"
        ).get(Q(buyer_id=user.pk) | Q(seller_id=user.pk), pk=int(report_id))
    except (ProblemReport.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ProblemNotFound() from None


def report_for_order(*, order: Order) -> ProblemReport | None:
    return ProblemReport.objects.filter(order=order).first()


def order_held(order: Order) -> bool:
    """Whether an open report holds the order (payments/order_problems.py)."""
    return ProblemReport.objects.filter(order_id=order.pk, status__in=OPEN_STATUSES).exists()


def orders_held() -> Q:
    return Q(problem_report__status__in=OPEN_STATUSES)


def reports_with_support() -> QuerySet[ProblemReport]:
    """Support's queue: the reports waiting for a decision, the longest waiting first."""
    return (
        ProblemReport.objects.filter(status=ProblemStatus.WITH_SUPPORT)
        .select_related("order", "seller", "buyer")
        .order_by("escalated_at", "pk")
    )


def seller_problem_record(*, seller_id: int) -> dict:
    """The seller's public record: reports closed, and how many of them were resolved (closed
    without Support refunding in the seller's place). One aggregate."""
    return ProblemReport.objects.filter(seller_id=seller_id, status=ProblemStatus.CLOSED).aggregate(
        closed=Count("pk"),
        resolved=Count("pk", filter=Q(outcome__in=RESOLVED_OUTCOMES)),
    )
