"""The staff journeys' buttons no other browser test clicks, each through its confirmation where
it has one, with the outcome checked on the page and in the database: Finance declines and
approves Support's refund requests; Support answers an inquiry (Accept, which says no money
moves, and "Refund the order instead"); Finance refunds after an early fraud warning; and the
two retries, "Process again" on a failed webhook delivery and "Send again to Stripe" on a refund
Stripe never answered. Every page is checked for console errors and CSP violations (conftest)."""

import pytest
import stripe
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory, UserFactory
from core.errors import PaymentProviderError
from disputes.models import Dispute, DisputeStatus
from e2e.browser import log_in
from payments.models import (
    EarlyFraudWarning,
    OrderStatus,
    Refund,
    RefundApproval,
    RefundApprovalStatus,
    RefundStatus,
)
from payments.services.refunds import refund_request
from payments.staff import FINANCE, SUPPORT, staff_groups_ensure
from payments.tests.webhook_support import pay, sandbox_order

pytestmark = pytest.mark.django_db(transaction=True)

DAY = 86400
DANGER = "rgb(185, 28, 28)"  # static/css/admin.css: the buttons that cannot be undone


@pytest.fixture
def staff(settings):
    """A Support agent (who may refund $100.00 of an order) and a Finance agent."""
    settings.SUPPORT_REFUND_LIMIT_CENTS = 10000
    settings.SUPPORT_REFUND_DAILY_LIMIT_CENTS = 50000
    staff_groups_ensure()
    users = {}
    for username, group in (("support", SUPPORT), ("finance", FINANCE)):
        users[username] = UserFactory(username=username, is_staff=True)
        users[username].groups.add(Group.objects.get(name=group))
    return users


@pytest.fixture
def seller(stripe_live):
    account = stripe_live.seller_account(email="seller@example.com")
    return SellerFactory(username="stubseller", email="seller@example.com", stripe_account_id=account["id"])


@pytest.fixture
def paid(stripe_live, seller):
    """paid(price_cents, card): an order paid on the sandbox, its webhooks delivered, and the
    seller's balance available (past the payout delay) so a refund is sent at once."""

    def make(price_cents=13550, card="pm_card_visa"):
        order = sandbox_order(stripe_live.sandbox, seller=seller, price_cents=price_cents)
        pay(order, card)
        assert stripe_live.flush()
        stripe_live.sandbox.advance_time(8 * DAY)
        order.refresh_from_db()
        return order

    return make


def run_action(page, row_text, action):
    """Tick the changelist row showing `row_text`, pick `action` and press Go."""
    page.locator("#result_list tbody tr", has_text=row_text).locator("input.action-select").check()
    page.locator("select[name=action]").select_option(action)
    page.get_by_role("button", name="Go").click()


def test_finance_declines_and_approves_supports_requests_only_from_their_confirmation(
    page, stripe_live, staff, paid
):
    site = stripe_live.site_url
    to_decline, to_approve = paid(), paid()
    for order in (to_decline, to_approve):
        waiting = refund_request(order_id=order.pk, actor=staff["support"], amount_cents=12000,
                                 buyer_note="Sorry the stub arrived creased.")
        assert isinstance(waiting, RefundApproval)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, site, "finance", form="/admin/login/")
    page.goto(f"{site}/admin/payments/refundapproval/")

    # Decline: the page says nothing is refunded; going back leaves the request waiting.
    run_action(page, f"#{to_decline.pk}", "decline")
    expect(page.locator("#approval-consequence")).to_contain_text("Nothing is refunded")
    preview = page.locator("#approval-preview")
    expect(preview).to_contain_text(f"#{to_decline.pk}")
    expect(preview).to_contain_text("$120.00")
    expect(preview).to_contain_text("support")
    expect(preview).to_contain_text("Sorry the stub arrived creased.")
    expect(preview).to_contain_text("Declined: nothing is refunded.")
    page.get_by_role("link", name="No, go back").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    assert to_decline.refund_approvals.get().status == RefundApprovalStatus.OPEN

    run_action(page, f"#{to_decline.pk}", "decline")
    page.get_by_role("button", name="Yes, decline 1 request (nothing is refunded)").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"#{to_decline.pk}: refund of $120.00 declined; nothing was refunded.")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)  # the open ones only
    declined = to_decline.refund_approvals.get()
    assert (declined.status, declined.decided_by) == (RefundApprovalStatus.DECLINED, staff["finance"])
    assert not to_decline.refunds.exists()

    # Approve: the page says what leaves the seller's balance and that it cannot be undone.
    run_action(page, f"#{to_approve.pk}", "approve")
    expect(page.locator("#approval-consequence")).to_contain_text("This cannot be undone")
    expect(page.locator("#approval-consequence")).to_contain_text("from the seller's Stripe balance")
    expect(page.locator(f"#approval-{to_approve.refund_approvals.get().pk}")).to_contain_text(
        "gets $120.00 back")
    assert not to_approve.refunds.exists()
    expect(page.get_by_role("button", name="Yes, refund $120.00 (1 request)")).to_have_css(
        "background-color", DANGER)
    page.get_by_role("button", name="Yes, refund $120.00 (1 request)").click()
    expect(page.locator(".messagelist")).to_contain_text(f"#{to_approve.pk}: refund of $120.00 succeeded.")
    expect(page.locator("#result_list tbody tr")).to_have_count(0)
    assert stripe_live.flush()
    approved = to_approve.refund_approvals.get()
    assert approved.status == RefundApprovalStatus.APPROVED
    assert approved.refund.status == RefundStatus.SUCCEEDED and approved.refund.amount_cents == 12000
    assert approved.refund.requested_by == staff["finance"]

    # The decided ones are shown as such on a page that offers nothing to press.
    page.goto(f"{site}/admin/payments/refundapproval/?status=all")
    for order in (to_decline, to_approve):
        page.locator("#result_list tbody tr", has_text=f"#{order.pk}").locator("input.action-select").check()
    page.locator("select[name=action]").select_option("approve")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#approval-preview")).to_contain_text("Cannot be approved: already declined")
    expect(page.locator("#approval-preview")).to_contain_text("Cannot be approved: already approved")
    expect(page.get_by_role("button", name="Yes, refund", exact=False)).to_have_count(0)
    page.get_by_role("link", name="Back to the refund approvals").click()
    assert sorted(r.amount_cents for r in Refund.objects.all()) == [12000]


@pytest.fixture
def inquiry(stripe_live, paid):
    """inquiry(): a paid order whose buyer's bank opened an inquiry (no money taken yet)."""

    def make():
        order = paid(price_cents=5000)
        intent = stripe.PaymentIntent.retrieve(order.payment_intent_id,
                                               stripe_account=order.stripe_account_id)
        stripe_live.sandbox.open_dispute(intent.latest_charge, reason="fraudulent", inquiry=True)
        assert stripe_live.flush()
        dispute = Dispute.objects.get(order=order)
        assert dispute.status == DisputeStatus.WARNING_NEEDS_RESPONSE and dispute.charge_refundable
        return dispute

    return make


def test_support_accepts_an_inquiry_told_that_no_money_moves(page, stripe_live, staff, inquiry):
    site, dispute = stripe_live.site_url, inquiry()
    log_in(page, site, "support", form="/admin/login/")
    page.goto(f"{site}/admin/disputes/dispute/{dispute.pk}/change/")
    expect(page.locator("#accept-consequence")).to_contain_text("No money moves")

    page.get_by_role("button", name="Accept the inquiry (closes it as lost; no money moves)…").click()
    consequence = page.locator("#consequence")
    expect(consequence).to_contain_text("No money moves: the buyer gets nothing back")
    expect(consequence).to_contain_text("may still open a chargeback")
    page.get_by_role("link", name="No, go back").click()
    dispute.refresh_from_db()
    assert dispute.accepted_at is None

    page.get_by_role("button", name="Accept the inquiry (closes it as lost; no money moves)…").click()
    page.get_by_role("button", name="Yes, accept the inquiry (closed as lost)").click()
    expect(page.get_by_text("accepted on Stripe")).to_be_visible()
    assert stripe_live.flush()
    page.reload()
    expect(page.locator("#dispute-status")).to_have_text("Lost")
    dispute.refresh_from_db()
    assert dispute.accepted_at is not None and dispute.lost_without_money
    assert not dispute.order.refunds.exists()  # accepting gave the buyer nothing back


def test_support_refunds_an_inquiry_instead_of_accepting_it(page, stripe_live, staff, inquiry):
    site, dispute = stripe_live.site_url, inquiry()
    log_in(page, site, "support", form="/admin/login/")
    page.goto(f"{site}/admin/disputes/dispute/{dispute.pk}/change/")

    page.get_by_role("link", name="Refund the order instead").click()
    expect(page).to_have_url(f"{site}/admin/payments/order/{dispute.order_id}/refund/")
    page.get_by_label("Reason").select_option("requested_by_customer")
    page.get_by_role("button", name="Review the refund").click()
    assert not dispute.order.refunds.exists()
    expect(page.get_by_role("button", name="Refund $50.00")).to_have_css("background-color", DANGER)
    page.get_by_role("button", name="Refund $50.00").click()
    expect(page.locator(".messagelist")).to_contain_text("Refund of $50.00 issued to the buyer.")

    assert stripe_live.flush()
    refund = dispute.order.refunds.get()
    assert (refund.amount_cents, refund.status, refund.requested_by) == (5000, RefundStatus.SUCCEEDED,
                                                                         staff["support"])
    dispute.refresh_from_db()
    assert dispute.accepted_at is None  # refunded, not accepted


def test_finance_refunds_after_an_early_fraud_warning(page, stripe_live, staff, paid):
    site = stripe_live.site_url
    order = paid(price_cents=5000, card="pm_card_createIssuerFraudRecord")
    warning = EarlyFraudWarning.objects.get(order=order)
    assert warning.actionable
    log_in(page, site, "finance", form="/admin/login/")
    page.goto(f"{site}/admin/payments/earlyfraudwarning/")

    row = page.locator("#result_list tbody tr", has_text=f"#{order.pk}")
    row.get_by_role("link", name="Refund in full…").click()
    expect(page).to_have_url(f"{site}/admin/payments/earlyfraudwarning/{warning.pk}/refund/")
    expect(page.locator("#preview-amount")).to_contain_text("$50.00")
    expect(page.locator("#refund-consequence")).to_contain_text("This cannot be undone")
    page.get_by_role("link", name="Cancel").click()
    assert not order.refunds.exists()

    row.get_by_role("link", name="Refund in full…").click()
    expect(page.get_by_role("button", name="Refund $50.00 now")).to_have_css("background-color", DANGER)
    page.get_by_role("button", name="Refund $50.00 now").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Refund of $50.00 sent for order #{order.pk}")
    assert stripe_live.flush()
    page.reload()
    expect(page.locator("#result_list tbody tr", has_text=f"#{order.pk}")).to_contain_text(
        "Nothing: disputed or refunded in full")
    refund = order.refunds.get()
    assert (refund.amount_cents, refund.status, refund.reason) == (5000, RefundStatus.SUCCEEDED, "fraudulent")
    warning.refresh_from_db()
    order.refresh_from_db()
    assert not warning.actionable and order.status == OrderStatus.REFUNDED


def test_finance_processes_a_failed_delivery_again(page, stripe_live, staff, paid):
    from djstripe.models import WebhookEventTrigger

    site, order = stripe_live.site_url, paid(price_cents=5000)
    # A delivery that failed every try (the worker's last exception kept), as the worker leaves it.
    trigger = WebhookEventTrigger.objects.filter(
        processed=True, body__contains=order.payment_intent_id, body__icontains="payment_intent.succeeded"
    ).first()
    WebhookEventTrigger.objects.filter(pk=trigger.pk).update(
        processed=False, exception="failed 5 tries: boom")
    log_in(page, site, "finance", form="/admin/login/")
    page.goto(f"{site}/admin/djstripe/webhookeventtrigger/?outcome=failed")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody tr")).to_contain_text("boom")

    run_action(page, "boom", "process_again")
    expect(page.locator(".messagelist")).to_contain_text("1 delivery(ies) processed.")
    expect(page.locator("#result_list tbody tr")).to_have_count(0)  # none failed any more
    trigger.refresh_from_db()
    assert trigger.processed
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # applied once: nothing changed twice


def test_finance_sends_again_a_refund_stripe_never_answered(page, stripe_live, staff, paid):
    site, order = stripe_live.site_url, paid(price_cents=5000)
    # Stripe answers 500 to the refund and to stripe-python's two retries: the row stays pending,
    # with no Stripe id, for staff to send again.
    stripe_live.sandbox.fail_next("/v1/refunds", status=500, times=3, method="POST")
    with pytest.raises(PaymentProviderError, match="did not answer"):
        refund_request(order_id=order.pk, actor=staff["finance"], amount_cents=2000, request_token="first")
    refund = order.refunds.get()
    assert (refund.status, refund.stripe_refund_id) == (RefundStatus.PENDING, "")
    log_in(page, site, "finance", form="/admin/login/")
    page.goto(f"{site}/admin/payments/refund/?todo=unfinished")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)

    run_action(page, f"#{order.pk}", "send_again")
    expect(page.locator(".messagelist")).to_contain_text(f"Refund #{refund.pk} sent.")
    assert stripe_live.flush()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.stripe_refund_id.startswith("re_")
    page.reload()
    expect(page.locator("#result_list tbody tr")).to_have_count(0)  # nothing pending at Stripe
