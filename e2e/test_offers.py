"""A buyer offers, the seller counters, the buyer accepts and pays the countered price: the
listing page's "Make an offer" form and its confirmation, the seller's dashboard link and offer
page, the counter and its confirmation, the buyer's accept straight into checkout at the agreed
price, and the sandbox payment (no console error or CSP violation on any page: the `page`
fixture checks)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory, UserFactory
from e2e.browser import log_in
from e2e.test_buyer_journey import fill_card
from marketplace.pricing import application_fee_cents
from marketplace.tests.factories import ListingFactory
from offers.models import Offer, OfferStatus
from payments.models import Order, OrderStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_buyer_offers_the_seller_counters_and_the_buyer_pays_the_countered_price(page, stripe_live):
    site = stripe_live.site_url
    account = stripe_live.seller_account(email="seller@example.com")
    seller = SellerFactory(username="stubseller", email="seller@example.com", stripe_account_id=account["id"])
    listing = ListingFactory(
        seller=seller,
        price_cents=5000,
        shipping_cents=400,
        offers_enabled=True,
        offer_minimum_cents=3000,
        stub__event_name="Joy Division at the Factory",
    )
    buyer = UserFactory(username="joe", email="joe@example.com")

    log_in(page, site, "joe")
    page.goto(f"{site}/listings/{listing.pk}/")
    expect(page.locator("#offer-box")).not_to_contain_text("30.00")  # the minimum stays hidden
    page.get_by_label("Your offer (US$, before shipping)").fill("40")
    page.get_by_role("button", name="Make an offer").click()
    expect(page.get_by_role("heading", name="Confirm your offer")).to_be_visible()
    expect(page.locator(".offer-confirm")).to_contain_text(
        "You offer $40.00 for Joy Division at the Factory, plus $4.00 shipping."
    )
    page.get_by_role("button", name="Offer $40.00").click()
    expect(page).to_have_url(re.compile(r"/offers/\d+/$"))
    expect(page.locator("#offer-status")).to_have_text("Waiting for the seller")

    log_in(page, site, "stubseller")
    page.goto(f"{site}/dashboard/")
    expect(page.locator("#dashboard-offers")).to_contain_text("1 waiting for your answer")
    page.locator("#dashboard-offers a").click()
    page.get_by_role("link", name="Joy Division at the Factory").click()
    expect(page.get_by_role("button", name="Accept $40.00")).to_be_visible()
    page.get_by_label(re.compile("Or counter with a price")).fill("45.00")
    page.get_by_role("button", name="Counter", exact=True).click()
    expect(page.get_by_role("heading", name="Confirm your counter-offer")).to_be_visible()
    page.get_by_role("button", name="Counter at $45.00").click()
    expect(page.locator("#offer-status")).to_have_text("Countered: waiting for the buyer")
    expect(page.locator("#offer-answer")).to_have_count(0)  # the buyer's turn now

    log_in(page, site, "joe")
    page.goto(f"{site}/offers/")
    page.locator("#offers-made").get_by_role("link", name="Joy Division at the Factory").click()
    expect(page.locator("#offer-counter")).to_have_text("$45.00")
    page.get_by_role("button", name="Accept $45.00").click()
    expect(page).to_have_url(f"{site}/checkout/{listing.pk}/")
    expect(page.locator("#checkout-price")).to_contain_text("$45.00")
    expect(page.locator("#checkout-total")).to_have_text("$49.00")
    page.get_by_label("Full name").fill("Joe Strummer")
    page.get_by_label("Address line 1").fill("1 Ladbroke Grove")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("State / region").fill("IL")
    page.get_by_label("Postal code").fill("62701")
    page.get_by_label("Country").select_option("US")
    page.get_by_role("button", name="Continue to payment").click()
    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay $49.00").click()
    expect(page.get_by_text("Payment received. Thank you for your order!")).to_be_visible(timeout=20_000)

    order = Order.objects.get(buyer=buyer)
    assert order.status == OrderStatus.PAID
    assert (order.amount_cents, order.shipping_cents) == (4900, 400)
    assert order.payment.application_fee_cents == application_fee_cents(4900)
    offer = Offer.objects.get()
    assert (offer.status, offer.agreed_cents, offer.order_id) == (OfferStatus.PAID, 4500, order.pk)
