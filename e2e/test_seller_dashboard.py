"""The seller's dashboard in a real browser: the quick "Mark shipped" of a sale asks for the
carrier like the order page does, so the buyer always gets a tracking link."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory, UserFactory
from e2e.browser import log_in
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus
from payments.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_dashboards_mark_shipped_needs_a_carrier_and_gives_the_buyer_a_tracking_link(page, stripe_live):
    site = stripe_live.site_url
    page.set_viewport_size({"width": 1280, "height": 800})
    account = stripe_live.seller_account(email="seller@example.com")
    seller = SellerFactory(username="maggie", stripe_account_id=account["id"])
    buyer = UserFactory(username="rosa")
    order = OrderFactory(buyer=buyer, status=OrderStatus.PAID,
                         listing=ListingFactory(seller=seller, stub__event_name="Purple Rain Tour"))

    log_in(page, site, "maggie")
    page.goto(f"{site}/dashboard/")
    row = page.locator(f"tr.order-row:has(a[href$='/orders/{order.pk}/'])")
    row.get_by_label("Tracking number").fill("1Z999AA10123456784")
    row.get_by_role("button", name="Mark shipped").click()
    # The browser itself refuses the form without a carrier (the select is required).
    assert row.get_by_label("Carrier").evaluate("select => !select.checkValidity()")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID

    row.get_by_label("Carrier").select_option("ups")
    row.get_by_role("button", name="Mark shipped").click()
    expect(page.get_by_text("You shipped it with UPS, tracking number 1Z999AA10123456784")).to_be_visible()
    order.refresh_from_db()
    assert (order.status, order.shipping_carrier) == (OrderStatus.SHIPPED, "ups")

    page.get_by_role("button", name="Log out").click()
    log_in(page, site, "rosa")
    page.goto(f"{site}/orders/{order.pk}/")
    expect(page.locator("#tracking-link")).to_have_attribute("href", re.compile(r"^https://www\.ups\.com/.*1Z999AA10123456784"))
