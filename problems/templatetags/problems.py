"""{% load problems %}: the problem report parts of pages other apps draw, loaded by name so none
of them imports problems (docs/architecture.md, "Layout").

{% order_problem_panel order %}: the order page's panel (the report's state and link, or the
buyer's way to report); {% seller_problem_record seller_id %}: the seller's public record.
"""

from django import template

from problems import selectors
from problems.services import problem_kinds_open

register = template.Library()


@register.inclusion_tag("problems/_order_panel.html", takes_context=True)
def order_problem_panel(context, order):
    user = context["request"].user
    is_party = user.is_authenticated and user.pk in (order.buyer_id, order.seller_id)
    if not is_party or order.paid_at is None:
        return {"show": False}
    report = selectors.report_for_order(order=order)
    is_buyer = user.pk == order.buyer_id
    return {
        "show": report is not None or is_buyer,
        "order": order,
        "report": report,
        "is_buyer": is_buyer,
        "can_report": is_buyer and report is None and bool(problem_kinds_open(order=order)),
    }


@register.inclusion_tag("problems/_seller_record.html")
def seller_problem_record(seller_id):
    return {"record": selectors.seller_problem_record(seller_id=seller_id)}
