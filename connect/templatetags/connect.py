"""{% load connect %}{% seller_stripe_account user as stripe %}: what the seller dashboard (a
payments page) shows of the seller's Stripe account, so the dashboard view does not have to
know about Connect (connect.selectors.seller_stripe_panels)."""

from django import template

from connect.selectors import seller_stripe_panels

register = template.Library()


@register.simple_tag
def seller_stripe_account(user):
    return seller_stripe_panels(user=user)
