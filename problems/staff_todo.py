"""Support's queue on the admin index's to-do list (payments.selectors.staff): problem reports
waiting for a decision, the longest waiting first."""

from django.urls import reverse

from payments.selectors.staff import TodoItem, TodoSection, todo_line
from problems.selectors import reports_with_support


def staff_todo_problems() -> TodoSection:
    url = f"{reverse('admin:problems_problemreport_changelist')}?status__exact=with_support"
    return TodoSection(
        "problems",
        "Problem reports waiting for Support",
        [
            todo_line(
                "With Support",
                url,
                reports_with_support(),
                lambda r: TodoItem(
                    f"{r.get_kind_display()} on order #{r.order_id} ({r.seller.username})",
                    reverse("admin:problems_problemreport_decide", args=[r.pk]),
                    r.escalated_at,
                    r.get_escalation_display(),
                ),
            )
        ],
    )
