"""The sold-price history shows user text as text: the performer or event name a seller typed is
the history's heading and its chart's title on the listing page (payments/templatetags/sold_prices.py)."""

import datetime
import re

import pytest

from marketplace.tests.factories import ListingFactory
from payments.tests.sale_support import sale
from security.test_xss import assert_escaped, payload

pytestmark = pytest.mark.django_db

DAY = datetime.date(1985, 3, 30)


def sold_panel(client, listing) -> str:
    html = client.get(f"/listings/{listing.pk}/").content.decode()
    match = re.search(r'<section class="panel sold-prices".*?</section>', html, re.S)
    assert match, "no sold-price history on the page (the check would prove nothing)"
    return match.group(0)


def test_a_performer_with_markup_is_text_in_the_history_and_its_chart(client):
    performer = payload("performer")
    sale(price_cents=4000, performer=performer, event_date=DAY)
    listing = ListingFactory(stub__performer=performer, stub__event_date=DAY)
    panel = sold_panel(client, listing)
    assert_escaped(panel, ["performer"], "listing page, sold-price history")
    assert_escaped(panel.split("<svg", 1)[1], ["performer"], "listing page, sold-price chart")


def test_an_event_name_with_markup_is_text_in_the_history_of_a_stub_without_a_performer(client):
    event_name = payload("event_name")
    sale(price_cents=4000, performer="", event_name=event_name, event_date=DAY)
    listing = ListingFactory(stub__performer="", stub__event_name=event_name, stub__event_date=DAY)
    assert_escaped(sold_panel(client, listing), ["event_name"], "listing page, sold-price history")
