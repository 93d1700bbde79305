"""Demo offers (seed_demo): a few listings that take offers (one with a hidden minimum), and an
offer in each state, made through the offers services as buyers and sellers would make them:
waiting for the seller, countered, accepted and held, paid (a real sandbox payment at the agreed
price, through checkout like any demo order), declined by the seller, declined below the
minimum, withdrawn, expired (made three days back, then swept) and void (its stub withdrawn)."""

import datetime

from django.utils import timezone

from core.errors import DomainError
from demo.orders import demo_order_pay
from marketplace.models import Listing, ListingStatus
from marketplace.offer_terms import listing_offer_terms_set
from marketplace.services import listing_withdraw
from offers.services import (
    offer_accept,
    offer_counter,
    offer_decline,
    offer_make,
    offer_withdraw,
    offers_sweep,
)

# The states, in the order the listings are taken; each a share of the asking price.
STATES = (
    "pending",
    "countered",
    "accepted",
    "paid",
    "declined",
    "below_minimum",
    "withdrawn",
    "expired",
    "void",
)


def _share(listing, percent: int) -> int:
    return max(50, listing.price_cents * percent // 100)


def create_demo_offers(*, listings, buyers, log=None) -> dict:
    """Offers on the newest listings still on sale whose sellers can take payments (the last ones
    of `listings`, so the demo's questions on the first ones stay apart); returns {state: offer}.
    The paid one is skipped, saying why through `log`, when Stripe does not answer."""
    ids = [listing.pk for listing in listings]
    candidates = (
        Listing.objects.filter(pk__in=ids, status=ListingStatus.ACTIVE, price_cents__gte=400)
        .select_related("seller", "stub")
        .order_by("-pk")
    )
    candidates = [listing for listing in candidates if listing.seller.can_accept_payments][: len(STATES)]
    made = {}
    now = timezone.now()
    for index, (state, listing) in enumerate(zip(STATES, candidates, strict=False)):
        buyer = buyers[index % len(buyers)]
        seller = listing.seller
        minimum = _share(listing, 60) if state == "below_minimum" else None
        listing_offer_terms_set(listing_id=listing.pk, seller=seller, enabled=True, minimum_cents=minimum)
        made_at = now - datetime.timedelta(days=3) if state == "expired" else now
        amount = _share(listing, 40 if state == "below_minimum" else 75)
        offer = offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=amount, now=made_at)
        if state == "countered":
            offer = offer_counter(offer_id=offer.pk, seller=seller, amount_cents=_share(listing, 90))
        elif state in ("accepted", "paid"):
            offer = offer_accept(offer_id=offer.pk, user=seller, amount_cents=amount)
        elif state == "declined":
            offer = offer_decline(offer_id=offer.pk, user=seller)
        elif state == "withdrawn":
            offer = offer_withdraw(offer_id=offer.pk, buyer=buyer)
        elif state == "void":
            listing_withdraw(listing_id=listing.pk, seller=seller)
        if state == "paid":
            shipping = {
                "shipping_name": buyer.get_full_name() or buyer.username,
                "shipping_line1": "12 Elm Street",
                "shipping_city": "Springfield",
                "shipping_state": "IL",
                "shipping_postal_code": "62701",
                "shipping_country": "US",
            }
            try:
                demo_order_pay(listing_id=listing.pk, buyer=buyer, shipping=shipping)
            except DomainError as error:
                if log:
                    log(f"The demo's paid offer was not paid: {error.message}")
        made[state] = offer
    offers_sweep()  # the expired one expires; the void one is void already (its listing's save)
    for offer in made.values():
        offer.refresh_from_db()
    return made
