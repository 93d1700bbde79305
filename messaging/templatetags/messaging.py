"""{% load messaging %}: the messages parts of pages other apps draw, loaded by name so none of
them imports messaging (docs/architecture.md, "Layout").

{{ text|message_html }}: a message as escaped text with safe links (messaging/text.py);
{% unread_messages as n %}: the visitor's unread count (the header, the dashboard), from the
cache or one query; {% order_messages_link order %}: the order page's link to its conversation.
"""

from django import template

from messaging.selectors import unread_count
from messaging.text import message_html as _message_html

register = template.Library()


@register.filter
def message_html(text):
    return _message_html(str(text))


@register.simple_tag(takes_context=True)
def unread_messages(context) -> int:
    request = context["request"]
    if not request.user.is_authenticated:
        return 0
    # The count read with the session only where the caller says nothing was read since (the
    # shared page's header slot); a view may just have marked messages read.
    return unread_count(user=request.user, request=request if context.get("unread_from_session") else None)


@register.inclusion_tag("messaging/_order_link.html", takes_context=True)
def order_messages_link(context, order):
    user = context["request"].user
    is_party = user.is_authenticated and user.pk in (order.buyer_id, order.seller_id)
    return {
        "order": order,
        "show": is_party and order.paid_at is not None,
        "is_seller": user.pk == order.seller_id,
    }
