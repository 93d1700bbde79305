"""The demo's offers (demo.offers): one in each state, the paid one a real sandbox payment at the
agreed price, and the listings that take them showing the offer panel."""

import random

import pytest

from accounts.tests.factories import UserFactory
from demo import catalogue
from demo.offers import STATES, create_demo_offers
from marketplace.models import Category
from payments.models import OrderStatus
from payments.tests.factories import sandbox_seller_onboarded

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_offer_in_each_state(stripe_sandbox, client):
    rng = random.Random(3)
    seller = sandbox_seller_onboarded(stripe_sandbox)
    listings = [
        catalogue.create_demo_listing(
            seller=seller, stub=catalogue.demo_stub(rng, Category.CONCERT, index=index)
        )
        for index in range(len(STATES) + 2)
    ]
    made = create_demo_offers(listings=listings, buyers=UserFactory.create_batch(3))

    assert {state: offer.status for state, offer in made.items()} == {
        "pending": "pending",
        "countered": "countered",
        "accepted": "accepted",
        "paid": "paid",
        "declined": "declined",
        "below_minimum": "declined",
        "withdrawn": "withdrawn",
        "expired": "expired",
        "void": "void",
    }
    paid = made["paid"]
    assert paid.order.status == OrderStatus.PAID
    assert paid.order.amount_cents == paid.agreed_cents + paid.listing.shipping_cents
    assert made["below_minimum"].declined_automatically
    page = client.get(f"/listings/{made['pending'].listing_id}/").content.decode()
    assert 'id="offer-box"' in page
