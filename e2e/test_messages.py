"""A buyer asks a question and the seller answers, then the buyer buys: the listing's "Ask the
seller a question" link, the header's unread count, the inbox, the answer, and after the
payment the order's own conversation (no console error or CSP violation on any page: the
`page` fixture checks)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory, UserFactory
from e2e.browser import log_in
from e2e.test_buyer_journey import fill_card, go_to_checkout
from marketplace.tests.factories import ListingFactory
from messaging.models import Conversation
from payments.models import Order, OrderStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_buyer_asks_a_question_and_the_seller_answers_then_the_buyer_buys(page, stripe_live):
    site = stripe_live.site_url
    account = stripe_live.seller_account(email="seller@example.com")
    seller = SellerFactory(username="stubseller", email="seller@example.com", stripe_account_id=account["id"])
    listing = ListingFactory(seller=seller, price_cents=5000, stub__event_name="The Clash at the Palladium")
    buyer = UserFactory(username="joe", email="joe@example.com")

    log_in(page, site, "joe")
    page.goto(f"{site}/listings/{listing.pk}/")
    page.get_by_role("link", name="Ask the seller a question").click()
    page.get_by_label("Your question").fill("Is the stub torn? See https://example.com/photo <b>thanks</b>")
    page.get_by_role("button", name="Send the question").click()
    expect(page).to_have_url(re.compile(r"/messages/\d+/#message-\d+$"))
    question = page.locator(".message-item").first
    expect(question).to_contain_text("<b>thanks</b>")  # typed markup stays text
    link = question.get_by_role("link", name="https://example.com/photo")
    expect(link).to_have_attribute("rel", "nofollow noopener ugc")

    log_in(page, site, "stubseller")
    badge = page.locator("#nav-messages .badge")
    expect(badge).to_have_text("1")
    page.locator("#nav-messages").click()
    page.get_by_role("link", name="The Clash at the Palladium").click()
    expect(page.locator(".message-item").first).to_contain_text("Is the stub torn?")
    expect(page.locator("#nav-messages .badge")).to_have_count(0)  # read now
    page.get_by_label("Your message").fill("Not at all: it has been in a sleeve since 1981.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message-item").nth(1)).to_contain_text("in a sleeve since 1981")

    log_in(page, site, "joe")
    expect(page.locator("#nav-messages .badge")).to_have_text("1")
    page.locator("#nav-messages").click()
    page.get_by_role("link", name="The Clash at the Palladium").click()
    expect(page.locator(".message-item").nth(1)).to_contain_text("in a sleeve since 1981")
    page.get_by_role("link", name="this listing").click()

    go_to_checkout(page, site, listing)
    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay $50.00").click()
    expect(page.get_by_text("Payment received. Thank you for your order!")).to_be_visible(timeout=20_000)
    order = Order.objects.get(buyer=buyer)
    assert order.status == OrderStatus.PAID

    page.get_by_role("link", name="Message the seller").click()
    page.get_by_label("Your message").fill("Paid! Looking forward to it.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message-item").first).to_contain_text("Paid! Looking forward to it.")
    kinds = sorted(Conversation.objects.filter(buyer=buyer).values_list("kind", flat=True))
    assert kinds == ["listing", "order"]
