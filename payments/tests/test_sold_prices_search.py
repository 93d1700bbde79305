"""What comparable stubs sold for, in search results: each card's line, cards still shared, and
the anonymous page cache following a sale."""

import re

import pytest
from django.core.cache import cache

from marketplace.cards import CARD_EXTRA, _card_key
from marketplace.models import Listing
from marketplace.tests.factories import ListingFactory
from payments.models import OrderStatus
from payments.services.orders import order_transition

pytestmark = pytest.mark.django_db


def test_search_results_say_what_stubs_like_each_one_sold_for(client, on_sale, sold_like_it):
    other = ListingFactory(stub__performer="Nobody Sold", stub__event_name="Purple Haze Gig")
    response = client.get("/", {"q": "purple"})
    html = response.content.decode()
    cards = {
        int(pk): card
        for pk, card in re.findall(
            r'<article class="card">\s*<a href="/listings/(\d+)/"(.*?)</article>', html, re.S
        )
    }
    assert "3 like this sold · median $60.00 ($40.00–$125.00)" in cards[on_sale.pk]
    assert "data-sold-prices" not in cards[other.pk]


def test_shared_cards_hold_no_sold_prices(client, on_sale, sold_like_it):
    assert "3 like this sold" in client.get("/", {"q": "purple"}).content.decode()
    # The key the page filed the card under (whatever the cache backend: locmem or Redis).
    stored = cache.get(_card_key(Listing.objects.get(pk=on_sale.pk), False))
    assert stored and CARD_EXTRA in stored
    assert "like this sold" not in stored and "data-sold-prices" not in stored


def test_an_anonymous_copy_of_search_results_is_not_served_after_a_sale_like_one_is_refunded(
    client, on_sale, sold_like_it
):
    assert "3 like this sold" in client.get("/", {"q": "purple"}).content.decode()
    order_transition(order=sold_like_it[0], to=OrderStatus.REFUNDED)
    assert "2 like this sold · median $92.50" in client.get("/", {"q": "purple"}).content.decode()
