"""{% load offers %}: the offers parts of pages other apps draw, loaded by name so none of them
imports offers (docs/architecture.md, "Layout").

{% offer_box listing is_owner %}: the listing page's "Make an offer" panel (nothing unless the
seller takes offers and the stub is on sale); {% offers_dashboard_link %}: the seller dashboard's
link with the count of offers waiting for an answer; {% agreed_total listing as total %}: what the
visitor pays by an accepted offer, for the listing page's Buy button.
"""

from django import template
from django.conf import settings

from marketplace.models import ListingStatus
from offers.selectors import agreed_price, offer_latest_for, offers_awaiting

register = template.Library()


@register.inclusion_tag("offers/_box.html", takes_context=True)
def offer_box(context, listing, is_owner=False):
    user = context["request"].user
    on_sale = listing.status in (ListingStatus.ACTIVE, ListingStatus.RESERVED)
    # Not while the seller cannot take payments: the offer would be refused (the page says why).
    show = listing.offers_enabled and on_sale and listing.seller.can_accept_payments
    latest = None
    if show and user.is_authenticated and not is_owner:
        latest = offer_latest_for(listing_id=listing.pk, buyer=user)
    return {
        "show": show,
        "listing": listing,
        "user": user,
        "is_owner": is_owner,
        "latest": latest,
        "hours": settings.OFFER_RESPONSE_HOURS,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def agreed_total(context, listing) -> int | None:
    """What the visitor pays in all by an offer the seller accepted for them (None: no such
    offer): the listing page's Buy button says what checkout will charge."""
    user = context["request"].user
    if not user.is_authenticated:
        return None
    agreed = agreed_price(listing=listing, buyer_id=user.pk)
    return None if agreed is None else agreed + listing.shipping_cents


@register.inclusion_tag("offers/_dashboard_link.html", takes_context=True)
def offers_dashboard_link(context):
    user = context["request"].user
    return {"awaiting": offers_awaiting(user=user) if user.is_authenticated else 0}
