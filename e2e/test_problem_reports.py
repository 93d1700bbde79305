"""A buyer reports a stub not received, the seller does not answer in time, and Support refunds:
the buyer reports from the order page, the seller's deadline passes (the beat task's service is
run with the clock past it), Support follows the admin to-do list to the report, reads it and
refunds it in full, and the buyer's report and order pages say so."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory, UserFactory
from e2e.browser import log_in, photograph
from payments.models import Order, OrderStatus, RefundStatus
from payments.staff import SUPPORT, staff_groups_ensure
from payments.tests.webhook_support import pay, sandbox_order
from problems.models import ProblemReport
from problems.services import problem_deadlines_apply

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Axe()
def look(page, name: str) -> None:
    """No serious or critical axe violation on the page; with SCREENSHOTS_DIR set
    (scripts/screenshots.sh), a full-page photograph at a phone's and a laptop's width."""
    results = AXE.run(page, options={"resultTypes": ["violations"]})
    blocking = [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert not blocking, f"{name}: {blocking}"
    photograph(page, name)


@pytest.fixture
def late_order(stripe_live):
    """A $45.00 order paid 15 days ago (past the delivery window) and never shipped."""
    sandbox = stripe_live.sandbox
    account = stripe_live.seller_account(email="seller@example.com")
    seller = SellerFactory(username="stubseller", email="seller@example.com", stripe_account_id=account["id"])
    buyer = UserFactory(username="ada", email="ada@example.com", first_name="Ada")
    order = sandbox_order(sandbox, seller=seller, buyer=buyer, price_cents=4500)
    pay(order)
    assert stripe_live.flush()
    sandbox.advance_time(8 * 86400)  # past the payout delay: the seller's balance covers the refund
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - datetime.timedelta(days=15))
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def test_not_received_unanswered_then_support_refunds(page, stripe_live, late_order):
    site = stripe_live.site_url
    page.set_viewport_size({"width": 1280, "height": 900})

    # The buyer reports it from the order page.
    log_in(page, site, "ada")
    page.goto(f"{site}/orders/{late_order.pk}/")
    page.locator("#report-problem-link").click()
    look(page, "problem-report-new")
    page.get_by_label("Not received").check()
    page.get_by_label("Tell the seller what happened").fill("Two weeks on and nothing in the post.")
    page.get_by_role("button", name="Report the problem").click()
    expect(page.locator("#problem-status")).to_have_text("Waiting for the seller")
    expect(page.locator(".problem-description")).to_contain_text("nothing in the post")
    report = ProblemReport.objects.get(order=late_order)
    assert any(m.to == ["seller@example.com"] and "reported a problem" in m.subject for m in mail.outbox)

    # The seller does not answer: the beat task runs once their time is up.
    assert problem_deadlines_apply(now=report.seller_due_at + datetime.timedelta(minutes=1))["escalated"] == 1
    page.reload()
    expect(page.locator("#problem-status")).to_have_text("With Support")
    look(page, "problem-report")

    # Support finds it on the admin's to-do list and refunds it in full.
    staff_groups_ensure()
    agent = UserFactory(username="support", is_staff=True)
    agent.groups.add(Group.objects.get(name=SUPPORT))
    log_in(page, site, "support", form="/admin/login/")
    page.goto(f"{site}/admin/")
    expect(page.locator("#todo-problems")).to_contain_text("Not received on order")
    page.locator("#todo-problems").get_by_role("link", name=f"Not received on order #{late_order.pk}").click()
    expect(page.locator("#report-status")).to_contain_text("With Support")
    expect(page.locator("#content-main")).to_contain_text("nothing in the post")
    look(page, "problem-decide")
    page.get_by_label("Refund the buyer").check()
    page.get_by_label("Note to the buyer and the seller").fill("No tracking and no answer: refunded in full.")
    page.get_by_role("button", name="Decide").click()
    expect(page.locator(".messagelist")).to_contain_text("Decided")
    assert stripe_live.flush()
    refund = late_order.refunds.get()
    assert (refund.amount_cents, refund.status, refund.by_support) == (4500, RefundStatus.SUCCEEDED, True)

    # The buyer's pages say so.
    log_in(page, site, "ada")
    page.goto(f"{site}/problems/{report.pk}/")
    expect(page.locator("#problem-status")).to_have_text("Closed")
    expect(page.locator("#problem-outcome")).to_contain_text("Refunded by Support")
    page.goto(f"{site}/orders/{late_order.pk}/")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("You reported a problem: not received")
    expect(timeline).to_contain_text("The seller did not answer in time")
    expect(timeline).to_contain_text("Our Support team refunded $45.00 through the problem report")
    expect(timeline).to_contain_text("Refund of $45.00 sent to your card")
