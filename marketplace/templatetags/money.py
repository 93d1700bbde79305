"""`{{ cents|usd }}` → "$1,234.56": pricing.format_usd for templates."""

from django import template

from marketplace.pricing import format_usd

register = template.Library()


@register.filter
def usd(cents):
    if cents in (None, ""):
        return ""
    return format_usd(int(cents))
