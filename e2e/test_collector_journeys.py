"""A collector's journeys in Chromium, at a phone's 390 px and a laptop's 1280 px: buy with shipping, the
seller ships with a carrier, the buyer follows the tracking link, confirms receipt and rates;
watch a stub and get the price-drop email; the photo gallery with zoom.

The carriers' sites are out of reach offline, so the browser context answers their tracking
URLs itself (context.route): the test still clicks the real link and lands on its address.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory, UserFactory
from e2e.browser import log_in as log_in_through_the_form
from marketplace.models import Watch
from marketplace.photos import stub_photos_add
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload
from payments.models import Order
from ratings.models import Feedback

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}


@pytest.fixture(params=list(WIDTHS))
def sized(request, browser, page_checker, allowed_console_errors):
    """A fresh browser context at the width under test, and its page, failing the test on any
    console error or CSP violation like every other page (e2e/conftest.py page_checked)."""
    context = browser.new_context(viewport=WIDTHS[request.param])
    context.route(re.compile(r"^https://(www\.ups\.com|tools\.usps\.com)/.*"), lambda route: route.fulfill(
        status=200, content_type="text/html",
        body="<!doctype html><title>Carrier tracking</title><h1>In transit</h1>",
    ))
    try:
        with page_checker(context.new_page(), allowed_console_errors) as page:
            page.width_name = request.param
            yield page
    finally:
        context.close()


def open_menu_if_folded(page):
    """On a phone the header's links sit behind the Menu button."""
    if page.width_name != "phone":
        return
    toggle = page.locator(".nav-toggle")
    expect(toggle).to_be_visible()
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def log_in(page, site_url, username):
    log_in_through_the_form(page, site_url, username)
    open_menu_if_folded(page)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def log_out(page, site_url):
    open_menu_if_folded(page)
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{site_url}/")


def test_buy_with_shipping_ship_with_a_carrier_follow_tracking_confirm_and_rate(sized, stripe_live):
    page, site = sized, stripe_live.site_url
    account = stripe_live.seller_account(email="seller@example.com")
    seller = SellerFactory(username="maggie", first_name="Maggie", stripe_account_id=account["id"])
    listing = ListingFactory(seller=seller, price_cents=8000, shipping_cents=450,
                             stub__event_name="Purple Rain Tour")
    buyer = UserFactory(username="rosa", email="rosa@example.com")

    log_in(page, site, "rosa")
    page.goto(f"{site}/listings/{listing.pk}/")
    expect(page.locator("#listing-shipping")).to_have_text("+ $4.50 shipping")
    page.get_by_role("link", name=re.compile(r"Buy for \$84\.50")).click()
    expect(page.locator("#checkout-shipping")).to_have_text("$4.50")
    expect(page.locator("#checkout-total")).to_have_text("$84.50")
    expect(page.get_by_text("Platform fee")).to_have_count(0)
    page.get_by_label("Full name").fill("Rosa Alvarez")
    page.get_by_label("Address line 1").fill("12 Elm Street")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Postal code").fill("62701")
    page.get_by_label("Country").select_option("US")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiration").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pay $84.50").click()
    expect(page.get_by_text("Payment received. Thank you for your order!")).to_be_visible(timeout=20_000)
    order = Order.objects.get(buyer=buyer)
    assert (order.amount_cents, order.shipping_cents, order.payment.amount_cents) == (8450, 450, 8450)

    log_out(page, site)
    log_in(page, site, "maggie")
    page.goto(f"{site}/orders/{order.pk}/")
    expect(page.get_by_text("Platform fee")).to_be_visible()
    page.get_by_label("Carrier").select_option("ups")
    page.get_by_label("Tracking number (optional)").fill("1Z999AA10123456784")
    page.get_by_role("button", name="Mark as shipped").click()
    expect(page.locator("#order-status-badge")).to_have_text("Shipped")

    log_out(page, site)
    log_in(page, site, "rosa")
    page.goto(f"{site}/orders/{order.pk}/")
    expect(page.get_by_text("Platform fee")).to_have_count(0)
    with page.context.expect_page() as carrier_tab:
        page.get_by_role("link", name="Track the parcel with UPS").click()
    tracking = carrier_tab.value
    tracking.wait_for_load_state()
    assert tracking.url == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    expect(tracking.get_by_role("heading", name="In transit")).to_be_visible()
    tracking.close()

    page.get_by_role("button", name="Confirm receipt").click()
    expect(page.locator("#order-status-badge")).to_have_text("Completed")
    page.get_by_label("5 stars: excellent").check()
    page.get_by_label("How did it go? (optional)").fill("Flat in a rigid mailer. Perfect.")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_text("Thanks for rating the seller.")).to_be_visible()
    assert Feedback.objects.get(order=order).rating == 5

    page.goto(f"{site}/sellers/maggie/")
    expect(page.get_by_text("from 1 rating")).to_be_visible()
    expect(page.get_by_text("1 stub sold")).to_be_visible()
    expect(page.get_by_text("Flat in a rigid mailer. Perfect.")).to_be_visible()


def test_watch_a_stub_and_get_the_price_drop_email(sized, stripe_live):
    page, site = sized, stripe_live.site_url
    account = stripe_live.seller_account()
    seller = SellerFactory(username="danny", stripe_account_id=account["id"])
    listing = ListingFactory(seller=seller, price_cents=12_000, stub__event_name="World Series Game 6")
    watcher = UserFactory(username="jamal", email="jamal@example.com")

    log_in(page, site, "jamal")
    page.goto(f"{site}/listings/{listing.pk}/")
    page.get_by_role("button", name="Watch World Series Game 6").click()
    expect(page.get_by_role("button", name="Stop watching World Series Game 6")).to_be_visible()
    assert Watch.objects.filter(user=watcher, listing=listing).exists()
    open_menu_if_folded(page)
    page.get_by_role("link", name="Watching").click()
    expect(page.get_by_role("link", name="World Series Game 6").first).to_be_visible()

    log_out(page, site)
    log_in(page, site, "danny")
    page.goto(f"{site}/listings/{listing.pk}/edit/")
    page.get_by_label("Price (US$)").fill("95")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Listing updated.")).to_be_visible()

    drops = [email for email in mail.outbox if email.to == ["jamal@example.com"]]
    assert len(drops) == 1 and "$95.00" in drops[0].subject and "$120.00" in drops[0].body
    unsubscribe = re.search(r"http\S+/unsubscribe/\S+/", drops[0].body).group(0)

    log_out(page, site)  # the link works for someone who is not logged in
    assert unsubscribe.startswith(site)  # SITE_URL is the live server here
    page.goto(unsubscribe)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("#unsubscribed")).to_be_visible()
    assert not Watch.objects.get(user=watcher).emails_enabled


def test_the_gallery_switches_photos_and_zooms(sized, settings, tmp_path, stripe_live):
    settings.MEDIA_ROOT = tmp_path
    page, site = sized, stripe_live.site_url
    listing = ListingFactory(stub__event_name="Live Aid", stub__photo="", stub__thumbnail="")
    stub_photos_add(listing_id=listing.pk, seller=listing.seller,
                    files=[image_upload(), image_upload("PNG"), image_upload("WEBP")])

    page.goto(f"{site}/listings/{listing.pk}/")
    thumbs = page.locator("[data-gallery-thumb]")
    expect(thumbs).to_have_count(3)
    thumbs.nth(1).click()
    expect(page.locator("#gallery-main")).to_have_attribute("src", re.compile(r"\.png$"))
    expect(thumbs.nth(1)).to_have_attribute("aria-current", "true")
    page.get_by_role("link", name="Zoom into the photo").click()
    dialog = page.locator("#gallery-zoom-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("img")).to_have_attribute("src", re.compile(r"\.png$"))
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_the_phone_header_keeps_brand_menu_and_search_in_view_and_the_filters_fold(sized, stripe_live):
    page, site = sized, stripe_live.site_url
    UserFactory(username="ann")
    log_in(page, site, "ann")
    page.goto(f"{site}/")
    brand = page.locator(".brand").bounding_box()
    search_box = page.get_by_label("Search stubs")
    expect(search_box).to_be_visible()
    filters = page.locator("details.filter-panel")
    if page.width_name == "phone":
        toggle = page.locator(".nav-toggle")
        expect(toggle).to_be_visible()
        assert abs(toggle.bounding_box()["y"] - brand["y"]) < 20  # brand and Menu share a line
        assert search_box.bounding_box()["y"] > brand["y"] + brand["height"] - 1  # search below
        expect(filters).not_to_have_attribute("open", "")
        page.get_by_text("Search and filters").click()
        expect(page.get_by_label("Search", exact=True)).to_be_visible()
    else:
        expect(page.locator(".nav-toggle")).to_be_hidden()
        assert abs(search_box.bounding_box()["y"] - brand["y"]) < 30  # one header line
        expect(page.get_by_label("Search", exact=True)).to_be_visible()
    # the header search works from any page
    page.goto(f"{site}/accounts/profile/")
    search_box.fill("rock")
    search_box.press("Enter")
    page.wait_for_url(f"{site}/?q=rock")
    # nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[page.width_name]["width"]


def test_a_failed_3d_secure_returns_to_checkout_with_a_plain_message(sized, stripe_live):
    page, site = sized, stripe_live.site_url
    account = stripe_live.seller_account()
    listing = ListingFactory(seller=SellerFactory(stripe_account_id=account["id"]), price_cents=5000)
    buyer = UserFactory(username="paul")

    log_in(page, site, "paul")
    page.goto(f"{site}/checkout/{listing.pk}/")
    page.get_by_label("Full name").fill("Paul Simonon")
    page.get_by_label("Address line 1").fill("1 Ladbroke Grove")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("W10 5AA")
    page.get_by_label("Country").select_option("GB")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_label("Card number").fill("4000 0025 0000 3155")
    page.get_by_label("Expiration").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pay $50.00").click()
    page.get_by_role("button", name="Fail authentication").click()

    expect(page).to_have_url(f"{site}/checkout/{listing.pk}/?payment=authentication_failed")
    expect(page.locator("#checkout-problem")).to_contain_text("Your bank did not confirm the payment")
    expect(page.get_by_text("payment_intent_authentication_failure")).to_have_count(0)
    assert stripe_live.flush()
    page.goto(f"{site}/orders/")
    orders = Order.objects.filter(buyer=buyer)
    assert orders.count() == 1 and orders.get().shipping_country == "GB"
    # Nothing was charged, so there is no order to show yet.
    expect(page.locator("tr.order-row")).to_have_count(0)
    expect(page.get_by_text("You have not bought any stubs yet.")).to_be_visible()

    # Trying again within the hold pays the same order, under the same number.
    attempt = orders.get()
    page.goto(f"{site}/checkout/{listing.pk}/")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiration").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pay $50.00").click()
    expect(page).to_have_url(re.compile(rf"/orders/{attempt.pk}/\?checkout=1$"))
    expect(page.get_by_text("Payment received. Thank you for your order!")).to_be_visible(timeout=20_000)
    page.goto(f"{site}/orders/")
    expect(page.locator("tr.order-row")).to_have_count(1)
    assert list(Order.objects.filter(buyer=buyer).values_list("pk", "status")) == [(attempt.pk, "paid")]
