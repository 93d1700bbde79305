"""A buyer finds a stub, checks out with a card in the (sandbox) Payment Element, and the order
turns paid once the signed webhook reaches the live server; the seller sees the sale."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory, UserFactory
from e2e.browser import log_in
from marketplace.models import ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listing(stripe_live):
    account = stripe_live.seller_account(email="seller@example.com")
    seller = SellerFactory(username="stubseller", email="seller@example.com", stripe_account_id=account["id"])
    return ListingFactory(seller=seller, price_cents=5000, stub__event_name="The Clash at the Palladium")


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def go_to_checkout(page, site_url, listing):
    page.goto(f"{site_url}/listings/{listing.pk}/")
    page.get_by_role("link", name=re.compile(r"Buy for \$50\.00")).click()
    expect(page).to_have_url(f"{site_url}/checkout/{listing.pk}/")
    expect(page.locator("#checkout-price")).to_have_text("$50.00")
    page.get_by_label("Full name").fill("Joe Strummer")
    page.get_by_label("Address line 1").fill("1 Ladbroke Grove")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("State / region").fill("IL")
    page.get_by_label("Postal code").fill("62701")
    page.get_by_label("Country").select_option("US")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_label("Card number")).to_be_visible()


def fill_card(page, number):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration").fill("12/34")
    page.get_by_label("CVC").fill("123")


def test_a_buyer_pays_by_card_sees_the_order_paid_and_the_seller_sees_the_sale(page, stripe_live, listing):
    buyer = UserFactory(username="joe", email="joe@example.com")
    log_in(page, stripe_live.site_url, "joe")
    go_to_checkout(page, stripe_live.site_url, listing)

    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay $50.00").click()

    # the return page polls until the webhook has marked the order paid, then shows it
    expect(page).to_have_url(re.compile(r"/orders/\d+/\?checkout=1$"))
    expect(page.get_by_text("Payment received. Thank you for your order!")).to_be_visible(timeout=20_000)
    expect(page.locator("#order-status-badge")).to_have_text("Paid")
    order = Order.objects.get(buyer=buyer)
    assert order.status == OrderStatus.PAID
    assert order.listing.status == ListingStatus.SOLD
    assert order.payment.amount_cents == 5000 and order.payment.application_fee_cents == 500

    log_out(page)
    log_in(page, stripe_live.site_url, "stubseller")
    page.goto(f"{stripe_live.site_url}/dashboard/")
    sale = page.locator(f"tr.order-row:has-text('#{order.pk}')")
    expect(sale).to_contain_text("The Clash at the Palladium")
    expect(sale).to_contain_text("Paid")


def test_a_declined_card_shows_a_clear_error_and_the_next_pay_uses_the_card_typed_then_on_one_order(
    page, stripe_live, listing
):
    buyer = UserFactory(username="mick")
    log_in(page, stripe_live.site_url, "mick")
    go_to_checkout(page, stripe_live.site_url, listing)

    fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay $50.00").click()

    message = page.locator("#checkout-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text(re.compile("declined", re.I))
    expect(page).to_have_url(f"{stripe_live.site_url}/checkout/{listing.pk}/")
    assert not Order.objects.filter(buyer=buyer, status=OrderStatus.PAID).exists()

    # The payment_failed webhook leaves the order open while the hold lasts, and the card form
    # keeps what was typed.
    assert stripe_live.flush()
    declined = Order.objects.get(buyer=buyer)
    assert declined.status == OrderStatus.PENDING_PAYMENT and declined.payment_failures == 1
    expect(page.get_by_label("Card number")).to_have_value("4000 0000 0000 0002")
    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay $50.00").click()

    # The same order number, paid with the card typed after the decline.
    expect(page).to_have_url(re.compile(rf"/orders/{declined.pk}/\?checkout=1$"))
    expect(page.get_by_text("Payment received. Thank you for your order!")).to_be_visible(timeout=20_000)
    paid = Order.objects.get(buyer=buyer)
    assert paid.pk == declined.pk and paid.status == OrderStatus.PAID
    assert paid.payment.payment_intent_id == declined.payment_intent_id
    assert paid.listing.status == ListingStatus.SOLD
    expect(page.locator("ol.timeline")).to_contain_text("Payment failed")

    # The buyer's orders: one purchase, one number.
    page.goto(f"{stripe_live.site_url}/orders/")
    rows = page.locator("table.orders-buyer tr.order-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"#{declined.pk}")


def test_a_pay_after_the_hold_lapsed_starts_a_new_checkout_and_asks_for_the_card_again(
    page, stripe_live, listing, allowed_console_errors
):
    from payments.services.reservations import reservations_release_expired

    # Confirming the cancelled PaymentIntent is Stripe's 400 payment_intent_unexpected_state,
    # which the page answers by opening a new checkout.
    allowed_console_errors.append(r"status of 400 .*/v1/payment_intents/pi_\w+/confirm\)$")

    buyer = UserFactory(username="paul")
    log_in(page, stripe_live.site_url, "paul")
    go_to_checkout(page, stripe_live.site_url, listing)
    fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay $50.00").click()
    expect(page.locator("#checkout-message")).to_contain_text(re.compile("declined", re.I))
    assert stripe_live.flush()
    lapsed = Order.objects.get(buyer=buyer)
    # The hold runs out and the minute job ends the order and cancels its PaymentIntent.
    # (its payment_intent.canceled webhook may get there first: either way the order ends).
    reservations_release_expired(now=lapsed.reserved_until + datetime.timedelta(seconds=1))
    assert stripe_live.flush()
    lapsed.refresh_from_db()
    assert lapsed.status == OrderStatus.CANCELLED

    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay $50.00").click()

    expect(page.locator("#checkout-message")).to_contain_text("Your hold on this stub ran out")
    expect(page.get_by_label("Card number")).to_have_value("")
    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay $50.00").click()
    expect(page.get_by_text("Payment received. Thank you for your order!")).to_be_visible(timeout=20_000)
    paid = Order.objects.get(buyer=buyer, status=OrderStatus.PAID)
    assert paid.pk != lapsed.pk
    page.goto(f"{stripe_live.site_url}/orders/")
    expect(page.locator("table.orders-buyer tr.order-row")).to_have_count(1)


def test_a_three_d_secure_card_authenticates_on_the_bank_page_and_returns_to_the_paid_order(
    page, stripe_live, listing
):
    buyer = UserFactory(username="topper")
    log_in(page, stripe_live.site_url, "topper")
    go_to_checkout(page, stripe_live.site_url, listing)

    fill_card(page, "4000 0025 0000 3155")
    page.get_by_role("button", name="Pay $50.00").click()
    page.get_by_role("button", name="Complete authentication").click()

    expect(page).to_have_url(re.compile(r"/orders/\d+/\?checkout=1"))
    expect(page.get_by_text("Payment received. Thank you for your order!")).to_be_visible(timeout=20_000)
    order = Order.objects.get(buyer=buyer)
    assert order.status == OrderStatus.PAID
    assert order.payment.three_d_secure_authenticated
