"""{% load ratings %}: the ratings parts of payments' and marketplace's pages, loaded by name in
their templates so neither app imports ratings (docs/architecture.md, "Layout").

{% order_feedback_panel order %}: the order page's rating panel (the buyer's form once the order
is completed, the feedback and the seller's answer form), one query;
{% seller_reputation seller_id recent=3 as reputation %}: the seller's average, count, stubs
sold and recent feedback for the seller and listing pages (ratings.selectors.seller_reputation:
cached, three queries on a miss).
"""

from django import template

from payments.models import OrderStatus
from payments.order_problems import order_problems
from ratings import selectors
from ratings.forms import FeedbackForm, ReplyForm

register = template.Library()


@register.inclusion_tag("ratings/order_feedback.html", takes_context=True)
def order_feedback_panel(context, order):
    user = context["request"].user
    feedback = selectors.order_feedback(order=order)
    panel = {"order": order, "feedback": feedback, "csrf_token": context.get("csrf_token")}
    if order.buyer_id == user.pk and feedback is None and order.status == OrderStatus.COMPLETED:
        # Not while a problem report is open on the order (payments/order_problems.py).
        if order_problems().holds(order):
            panel["feedback_on_hold"] = True
        else:
            panel["feedback_form"] = FeedbackForm()
    is_seller = order.seller_id == user.pk
    if is_seller and feedback is not None and not feedback.replied_at and not feedback.hidden:
        panel["reply_form"] = ReplyForm()
    return panel


@register.simple_tag
def seller_reputation(seller_id, recent=selectors.RECENT_FEEDBACK):
    return selectors.seller_reputation(seller_id=seller_id, recent=recent)
