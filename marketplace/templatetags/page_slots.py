"""`{% header_nav %}`: base.html's menu for a logged-in visitor, or its slot on a page shared by
logged-in visitors (marketplace.personal)."""

from django import template

from marketplace.personal import header_html

register = template.Library()


@register.simple_tag(takes_context=True)
def header_nav(context):
    return header_html(context["request"])
