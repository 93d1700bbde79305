"""Support's refund limit in a real browser: an agent refunds $80.00 of a $135.50 order, then
asks for the $55.50 left; the review says it goes to Finance (Support may refund $100.00 of one
order in total), nothing is refunded, and Finance approves it from the admin to-do list with
the changelist's action and its confirmation page, which refunds it."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory, UserFactory
from e2e.browser import log_in
from payments.models import RefundApprovalStatus, RefundStatus
from payments.staff import FINANCE, SUPPORT, staff_groups_ensure
from payments.tests.webhook_support import pay, sandbox_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid_order(stripe_live, settings):
    settings.SUPPORT_REFUND_LIMIT_CENTS = 10000
    settings.SUPPORT_REFUND_DAILY_LIMIT_CENTS = 50000
    account = stripe_live.seller_account(email="seller@example.com")
    seller = SellerFactory(username="stubseller", stripe_account_id=account["id"])
    order = sandbox_order(stripe_live.sandbox, seller=seller, price_cents=13550)
    pay(order)
    assert stripe_live.flush()
    stripe_live.sandbox.advance_time(8 * 86400)  # past the payout delay: the balance covers both
    return order


def refund_from_admin(page, site, order, amount):
    page.goto(f"{site}/admin/payments/order/{order.pk}/change/")
    page.get_by_role("link", name="Refund", exact=True).click()
    page.get_by_label("Amount (dollars)").fill(amount)
    page.get_by_label("Reason").select_option("requested_by_customer")
    page.get_by_role("button", name="Review the refund").click()


def test_support_splits_a_refund_past_its_limit_and_finance_approves_the_rest(page, stripe_live, paid_order):
    staff_groups_ensure()
    for username, group in (("support", SUPPORT), ("finance", FINANCE)):
        UserFactory(username=username, is_staff=True).groups.add(Group.objects.get(name=group))
    site, order = stripe_live.site_url, paid_order
    page.set_viewport_size({"width": 1280, "height": 900})

    log_in(page, site, "support", form="/admin/login/")
    refund_from_admin(page, site, order, "80.00")
    expect(page.locator("#needs-approval")).to_have_count(0)
    page.get_by_role("button", name="Refund $80.00").click()
    expect(page.locator(".messagelist")).to_contain_text("Refund of $80.00")

    refund_from_admin(page, site, order, "55.50")
    expect(page.locator("#needs-approval")).to_contain_text("$100.00 of one order in total")
    expect(page.locator("#needs-approval")).to_contain_text("($80.00 refunded by Support so far)")
    page.get_by_role("button", name="Send the refund of $55.50 to Finance").click()
    expect(page.locator(".messagelist")).to_contain_text("Refund of $55.50 sent to Finance for approval")
    assert stripe_live.flush()
    assert [r.amount_cents for r in order.refunds.all()] == [8000]
    approval = order.refund_approvals.get()
    assert approval.status == RefundApprovalStatus.OPEN

    log_in(page, site, "finance", form="/admin/login/")
    waiting = page.locator("#todo-approvals")
    expect(waiting).to_contain_text("Refund requests waiting for Finance (1)")
    waiting.get_by_role("link", name="Waiting for a decision: 1").click()
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("$55.50")
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("approve")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#approval-consequence")).to_contain_text("This cannot be undone")
    page.get_by_role("button", name="Yes, refund $55.50 (1 request)").click()
    expect(page.locator(".messagelist")).to_contain_text(f"#{order.pk}: refund of $55.50")

    assert stripe_live.flush()
    approval.refresh_from_db()
    assert approval.status == RefundApprovalStatus.APPROVED
    assert sorted(r.amount_cents for r in order.refunds.all()) == [5550, 8000]
    assert all(r.status == RefundStatus.SUCCEEDED for r in order.refunds.all())
