"""The staff to-do list on the admin index: Finance sees what waits for them and follows a line
to Support's refund request (payments.selectors.staff, templates/admin/index.html)."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from payments.staff import FINANCE, staff_groups_ensure
from payments.tests.factories import RefundApprovalFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_finance_sees_the_to_do_list_and_follows_it_to_the_refund_request(page, live_server):
    staff_groups_ensure()
    finance = UserFactory(username="finance", is_staff=True)
    finance.groups.add(Group.objects.get(name=FINANCE))
    approval = RefundApprovalFactory(amount_cents=13550, why="Above Support's limit of $100.00 per order.")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("finance")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    waiting = page.locator("#todo-approvals")
    expect(waiting).to_contain_text("Refund requests waiting for Finance (1)")
    expect(waiting).to_contain_text("Waiting for a decision: 1")
    expect(waiting).to_contain_text("Above Support's limit")
    expect(page.locator("#todo-disputes")).to_contain_text("Nothing to do")
    expect(page.locator("#todo-fraud")).to_contain_text("Nothing to do")

    waiting.get_by_role("link", name="Waiting for a decision: 1").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.go_back()

    waiting.get_by_role("link", name=f"$135.50 on order #{approval.order_id}").click()
    expect(page).to_have_url(f"{live_server.url}/admin/payments/refundapproval/{approval.pk}/change/")
    expect(page.locator("#content")).to_contain_text("Waiting for Finance")
