"""A shipped order refunded in full by Finance in admin, with our reason and a note to the buyer:
the buyer's order page says "Refund pending" while Stripe holds the refund, "Refunded" once the
sandbox settles it, and the stub stays off sale until its seller puts it back on sale."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory, UserFactory
from e2e.browser import log_in
from marketplace.models import ListingStatus
from payments.models import OrderStatus, RefundStatus
from payments.services.fulfilment import order_ship
from payments.staff import FINANCE, staff_groups_ensure
from payments.tests.webhook_support import pay, sandbox_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shipped_order(stripe_live):
    sandbox = stripe_live.sandbox
    account = stripe_live.seller_account(email="seller@example.com")
    seller = SellerFactory(username="stubseller", email="seller@example.com", stripe_account_id=account["id"])
    buyer = UserFactory(username="ada", email="ada.collector@example.com")
    order = sandbox_order(sandbox, seller=seller, buyer=buyer, price_cents=4500)
    pay(order)
    assert stripe_live.flush()
    # No time passes: the sale's money is not available yet, so Stripe keeps the refund pending.
    order_ship(order_id=order.pk, seller=seller, tracking_number="1Z999AA10123456784", carrier="ups")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    return order


def test_finance_refunds_a_shipped_order_and_the_stub_waits_for_its_seller(page, stripe_live, shipped_order):
    staff_groups_ensure()
    finance = UserFactory(username="finance", is_staff=True)
    finance.groups.add(Group.objects.get(name=FINANCE))
    site = stripe_live.site_url
    order = shipped_order

    log_in(page, site, "finance", form="/admin/login/")
    page.goto(f"{site}/admin/payments/order/{order.pk}/change/")
    page.get_by_role("link", name="Refund", exact=True).click()
    page.get_by_label("Reason").select_option("damaged")
    page.get_by_label("Note to the buyer").fill("Sorry it arrived bent; keep it.")
    page.get_by_role("button", name="Review the refund").click()

    expect(page.locator("#preview-reason")).to_have_text("Damaged")
    expect(page.locator("#preview-buyer-note")).to_have_text("Sorry it arrived bent; keep it.")
    expect(page.locator("#preview-afterwards")).to_contain_text("stays off sale until its seller")
    page.get_by_role("button", name="Refund $45.00").click()
    expect(page.locator(".messagelist")).to_contain_text("pending")
    assert stripe_live.flush()
    page.goto(f"{site}/admin/payments/order/?q={order.pk}")
    expect(page.locator("#result_list .field-status_badge").first).to_have_text("Refund pending")

    log_in(page, site, "ada")
    page.goto(f"{site}/orders/{order.pk}/")
    expect(page.locator("#order-status-badge")).to_have_text("Refund pending")
    expect(page.locator("#refund-pending")).to_contain_text("$45.00 on its way")
    page.goto(f"{site}/orders/")
    expect(page.locator(".orders-buyer")).to_contain_text("Refund pending")

    stripe_live.sandbox.settle_refunds(order.refunds.get().stripe_refund_id)  # the funds arrived
    assert stripe_live.flush()
    assert order.refunds.get().status == RefundStatus.SUCCEEDED
    page.goto(f"{site}/orders/{order.pk}/")
    expect(page.locator("#order-status-badge")).to_have_text("Refunded")
    expect(page.locator("#refunded")).to_have_text("$45.00")
    order.listing.refresh_from_db()
    assert order.listing.status == ListingStatus.SOLD  # shipped: the buyer has the stub

    log_in(page, site, "stubseller")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site}/orders/{order.pk}/")
    page.get_by_role("button", name="Put it back on sale").click()
    expect(page.locator("body")).to_contain_text("Your stub is back on sale.")
    order.listing.refresh_from_db()
    assert order.listing.status == ListingStatus.ACTIVE
