"""`{% listing_cards listings %}`, `{% watch_button listing %}` and `{% filter_fields form %}`
(marketplace.cards)."""

from django import template

from marketplace.cards import cards_render, filter_fields_render, watch_button_html

register = template.Library()


@register.simple_tag(takes_context=True)
def listing_cards(context, listings, hide_seller=False, extras=None):
    return cards_render(listings=listings, request=context["request"], hide_seller=hide_seller, extras=extras)


@register.simple_tag(takes_context=True)
def watch_button(context, listing, show_label=False):
    return watch_button_html(listing=listing, request=context["request"], show_label=show_label)


@register.simple_tag
def filter_fields(form):
    return filter_fields_render(form)
