"""Staff refund in admin: Finance finds an order by the buyer's email, refunds $10.00 with a
reason through the confirmation page, and the admin order page and the buyer's order page both
say so, in dollars and words."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, SellerFactory, UserFactory
from e2e.browser import log_in
from payments.models import OrderStatus, RefundStatus
from payments.staff import FINANCE, staff_groups_ensure
from payments.tests.webhook_support import pay, sandbox_order

pytestmark = pytest.mark.django_db(transaction=True)

BUYER_EMAIL = "ada.collector@example.com"


@pytest.fixture
def paid_order(stripe_live):
    sandbox = stripe_live.sandbox
    account = stripe_live.seller_account(email="seller@example.com")
    seller = SellerFactory(username="stubseller", email="seller@example.com", stripe_account_id=account["id"])
    buyer = UserFactory(username="ada", email=BUYER_EMAIL)
    order = sandbox_order(sandbox, seller=seller, buyer=buyer, price_cents=91600)
    pay(order)
    assert stripe_live.flush()
    sandbox.advance_time(8 * 86400)  # past the payout delay: the seller's balance covers $10
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def test_finance_refunds_ten_dollars_through_the_confirmation_page(page, stripe_live, paid_order):
    staff_groups_ensure()
    finance = UserFactory(username="finance", is_staff=True)
    finance.groups.add(Group.objects.get(name=FINANCE))
    site = stripe_live.site_url
    page.set_viewport_size({"width": 1280, "height": 900})

    log_in(page, site, "finance", form="/admin/login/")
    page.goto(f"{site}/admin/payments/order/")
    page.locator("#searchbar").fill(BUYER_EMAIL)
    page.locator("#searchbar").press("Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("$916.00")
    rows.first.locator("a").first.click()

    page.get_by_role("link", name="Refund", exact=True).click()
    page.get_by_label("Amount (dollars)").fill("10.00")
    page.get_by_label("Reason").select_option("requested_by_customer")
    page.get_by_label("Internal note").fill("Corner crease not in the photos")
    page.get_by_role("button", name="Review the refund").click()

    expect(page.locator("#preview-amount")).to_contain_text("$10.00")
    expect(page.locator("#preview-fee")).to_contain_text("$1.00")
    expect(page.locator("#preview-seller")).to_contain_text("$9.00")
    page.get_by_role("button", name="Refund $10.00").click()

    expect(page.locator(".messagelist")).to_contain_text("Refund of $10.00 issued")
    assert stripe_live.flush()
    refund = paid_order.refunds.get()
    assert (refund.amount_cents, refund.status) == (1000, RefundStatus.SUCCEEDED)
    page.reload()
    expect(page.locator("body")).to_contain_text("Partially refunded")
    expect(page.locator("body")).to_contain_text("Refund of $10.00 issued — requested by the buyer")

    # The buyer's own order page says the same, in dollars.
    page.context.clear_cookies()
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{site}/orders/{paid_order.pk}/")
    expect(page.locator("#order-status-badge")).to_have_text("Partially refunded")
    expect(page.locator("ol.timeline")).to_contain_text("Refund of $10.00 sent to your card")
    expect(page.locator("body")).to_contain_text("$10.00")
    expect(page.locator("body")).not_to_contain_text("cents")
