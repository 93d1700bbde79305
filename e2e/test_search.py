"""Search in a real browser, on a phone: a typo typed in the header's box finds the stubs of the
catalogue's closest spelling and says "did you mean"; each card shows its price and shipping on
one line."""

import pytest
from playwright.sync_api import expect

from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_typo_in_the_header_search_finds_the_closest_spelling_and_cards_show_shipping(page, live_server):
    site = live_server.url
    shipped = ListingFactory(price_cents=7050, shipping_cents=400, stub__performer="Metallica",
                             stub__event_name="Master of Puppets tour", stub__venue="Cow Palace")
    free = ListingFactory(price_cents=2500, shipping_cents=0, stub__performer="Metallica",
                          stub__event_name="Damage Inc. tour", stub__venue="Hammersmith Odeon")
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"{site}/accounts/login/")
    search = page.get_by_label("Search stubs")
    search.fill("metalica")
    search.press("Enter")

    expect(page.locator(".did-you-mean")).to_contain_text("Did you mean Metallica?")
    card = page.locator(f".card:has(a[href$='/listings/{shipped.pk}/'])")
    expect(card.locator(".card-price")).to_have_text("$70.50 + $4.00 shipping")
    expect(page.locator(f".card:has(a[href$='/listings/{free.pk}/']) .card-price")).to_have_text(
        "$25.00 Free shipping")
    page.locator(".did-you-mean").get_by_role("link", name="Metallica").click()
    expect(page).to_have_url(f"{site}/?q=Metallica")
    expect(page.locator(".did-you-mean")).to_have_count(0)
    expect(page.locator(".card-price")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
