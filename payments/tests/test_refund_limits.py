"""Support's refund limits: what Support has refunded on one order in total and what one agent
refunds in 24 hours. Above either, the request waits for Finance (a RefundApproval), who
approves it (the refund service refunds as Finance) or declines it, in admin."""

import datetime

import pytest

from payments.models import Refund, RefundApproval, RefundApprovalStatus, RefundStatus
from payments.services.refunds import (
    RefundApprovalDecided,
    RefundNotAllowed,
    refund_approval_approve,
    refund_approval_decline,
    refund_request,
)
from payments.staff import FINANCE, SUPPORT
from payments.tests.factories import staff_member
from payments.tests.webhook_support import deliver, endpoints_register, sandbox_order_paid, sandbox_refunds
from testing import paid_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(stripe_sandbox, client, settings):
    settings.SUPPORT_REFUND_LIMIT_CENTS = 10000
    settings.SUPPORT_REFUND_DAILY_LIMIT_CENTS = 50000
    return endpoints_register(stripe_sandbox, client)


def paid(sandbox, *, price_cents=13550, funds_available=True):
    """$135.50 (above Support's $100 limit here), paid; past the payout delay unless asked."""
    return sandbox_order_paid(sandbox, price_cents=price_cents, funds_available=funds_available)


def _paid_order_build(sandbox) -> int:
    return paid(sandbox).pk


@pytest.fixture
@paid_snapshot.shared(_paid_order_build)
def paid_order(sandbox, client, request):
    """`paid(sandbox)` once for the tests that take it (testing/paid_snapshot.py)."""
    return paid_snapshot.take(request, sandbox, client, _paid_order_build)


def stripe_refunded(sandbox, order) -> list[int]:
    return [refund["amount"] for refund in sandbox_refunds(sandbox, order)]


def post_refund(client, order, amount, **headers):
    return client.post(
        f"/payments/orders/{order.pk}/refund/", {"amount": amount}, content_type="application/json", **headers
    )


# -- the limits ----------------------------------------------------------------------------------


def test_support_cannot_refund_an_order_in_full_in_pieces_under_its_limit(client, sandbox, paid_order):
    order = paid_order
    client.force_login(staff_member(SUPPORT))

    first = post_refund(client, order, 8000)
    second = post_refund(client, order, 5550)

    assert first.status_code == 201
    assert second.status_code == 202
    assert second.json()["message"] == (
        "Refund of $55.50 sent to Finance for approval: Support may refund up to $100.00 of one "
        "order in total ($80.00 refunded by Support so far)."
    )
    assert stripe_refunded(sandbox, order) == [8000]
    assert order.refund_approvals.get().status == RefundApprovalStatus.OPEN


def test_two_support_agents_share_the_orders_limit(client, sandbox, paid_order):
    order = paid_order
    for amount, expected in ((6000, 201), (4000, 201), (1, 202)):
        client.force_login(staff_member(SUPPORT))
        assert post_refund(client, order, amount).status_code == expected

    assert stripe_refunded(sandbox, order) == [6000, 4000]


def test_a_pending_refund_counts_towards_the_limit(client, sandbox):
    order = paid(sandbox, funds_available=False)  # Stripe keeps the refund pending
    client.force_login(staff_member(SUPPORT))

    post_refund(client, order, 9000)
    assert Refund.objects.get().status == RefundStatus.PENDING

    assert post_refund(client, order, 1001).status_code == 202


def test_a_failed_refund_does_not_count_towards_the_limit(client, sandbox, paid_order):
    order = paid_order
    support = staff_member(SUPPORT)
    client.force_login(support)
    post_refund(client, order, 9000)
    Refund.objects.update(status=RefundStatus.FAILED)

    again = refund_request(order_id=order.pk, actor=support, amount_cents=4000, request_token="again")

    assert isinstance(again, Refund)


def test_the_sellers_and_finances_refunds_do_not_use_up_supports_limit(client, sandbox):
    order = paid(sandbox, price_cents=50000)
    refund_request(order_id=order.pk, actor=order.seller, amount_cents=20000)
    refund_request(order_id=order.pk, actor=staff_member(FINANCE), amount_cents=20000)
    client.force_login(staff_member(SUPPORT))

    assert post_refund(client, order, 10000).status_code == 201


def test_an_agents_day_spans_orders_and_ends_after_24_hours(client, sandbox, settings):
    settings.SUPPORT_REFUND_DAILY_LIMIT_CENTS = 15000
    support = staff_member(SUPPORT)
    client.force_login(support)
    orders = [paid(sandbox) for _ in range(3)]

    assert post_refund(client, orders[0], 10000).status_code == 201
    over = post_refund(client, orders[1], 5001)
    Refund.objects.update(created_at=Refund.objects.get().created_at - datetime.timedelta(hours=24))
    next_day = post_refund(client, orders[2], 10000)

    assert over.status_code == 202
    assert "up to $150.00 in 24 hours ($100.00 refunded by you so far)" in over.json()["message"]
    assert next_day.status_code == 201


def test_another_agent_has_a_day_of_their_own(client, sandbox, settings):
    settings.SUPPORT_REFUND_DAILY_LIMIT_CENTS = 10000
    first, second = paid(sandbox), paid(sandbox)
    client.force_login(staff_member(SUPPORT))
    post_refund(client, first, 10000)
    client.force_login(staff_member(SUPPORT))

    assert post_refund(client, second, 10000).status_code == 201


def test_a_double_click_above_the_limit_is_one_request_for_finance(client, sandbox, paid_order):
    order = paid_order
    client.force_login(staff_member(SUPPORT))

    answers = [post_refund(client, order, 12000) for _ in range(2)]
    keyed = [post_refund(client, order, 11000, HTTP_IDEMPOTENCY_KEY="k1") for _ in range(2)]

    assert [a.status_code for a in answers + keyed] == [202] * 4
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert keyed[0].json()["id"] == keyed[1].json()["id"]
    assert RefundApproval.objects.count() == 2
    assert stripe_refunded(sandbox, order) == []


# -- Finance's decision ---------------------------------------------------------------------------


@pytest.fixture
def waiting(client, sandbox, paid_order):
    order = paid_order
    approval = refund_request(order_id=order.pk, actor=staff_member(SUPPORT), amount_cents=12000)
    assert isinstance(approval, RefundApproval)
    return approval


def test_finance_approves_and_the_refund_is_made_as_finance(sandbox, waiting):
    finance = staff_member(FINANCE)

    refund = refund_approval_approve(approval_id=waiting.pk, actor=finance)
    deliver(sandbox)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.refund) == (RefundApprovalStatus.APPROVED, refund)
    assert waiting.decided_by == finance
    assert (refund.amount_cents, refund.requested_by, refund.by_support) == (12000, finance, False)
    assert stripe_refunded(sandbox, waiting.order) == [12000]


def test_support_cannot_approve_or_decline(sandbox, waiting):
    for decide in (refund_approval_approve, refund_approval_decline):
        with pytest.raises(RefundNotAllowed):
            decide(approval_id=waiting.pk, actor=staff_member(SUPPORT))

    waiting.refresh_from_db()
    assert waiting.status == RefundApprovalStatus.OPEN
    assert stripe_refunded(sandbox, waiting.order) == []


def test_a_request_is_decided_once(sandbox, waiting):
    finance = staff_member(FINANCE)
    refund_approval_approve(approval_id=waiting.pk, actor=finance)

    with pytest.raises(RefundApprovalDecided, match="already approved"):
        refund_approval_approve(approval_id=waiting.pk, actor=finance)
    with pytest.raises(RefundApprovalDecided):
        refund_approval_decline(approval_id=waiting.pk, actor=finance)
    assert stripe_refunded(sandbox, waiting.order) == [12000]


def test_declining_refunds_nothing(sandbox, waiting):
    refund_approval_decline(approval_id=waiting.pk, actor=staff_member(FINANCE))

    waiting.refresh_from_db()
    assert waiting.status == RefundApprovalStatus.DECLINED
    assert stripe_refunded(sandbox, waiting.order) == []
    assert waiting.order.audit_events.filter(action="refund.declined").exists()


def test_a_request_for_more_than_is_left_by_now_stays_open_with_the_reason(sandbox, waiting):
    refund_request(order_id=waiting.order_id, actor=waiting.order.seller, amount_cents=5000)

    with pytest.raises(Exception, match="what is left to refund"):
        refund_approval_approve(approval_id=waiting.pk, actor=staff_member(FINANCE))

    waiting.refresh_from_db()
    assert waiting.status == RefundApprovalStatus.OPEN


# -- admin ---------------------------------------------------------------------------------------


def test_finance_sees_the_to_do_list_and_approves_from_it(client, sandbox, waiting):
    client.force_login(staff_member(FINANCE))

    page = client.get("/admin/payments/refundapproval/").content.decode()
    # The action's confirmation page: test_refund_approval_admin.py.
    approve = {"action": "approve", "_selected_action": [waiting.pk], "confirm": "1"}
    response = client.post("/admin/payments/refundapproval/", approve, follow=True)

    assert "$120.00" in page and "Approve and refund" in page
    assert response.status_code == 200
    told = [str(m) for m in response.context["messages"]]
    assert f"#{waiting.order_id}: refund of $120.00 succeeded." in told
    assert stripe_refunded(sandbox, waiting.order) == [12000]


def test_support_sees_its_requests_but_has_no_approve_action(client, sandbox, waiting):
    client.force_login(staff_member(SUPPORT))

    page = client.get("/admin/payments/refundapproval/")
    client.post("/admin/payments/refundapproval/", {"action": "approve", "_selected_action": [waiting.pk]})

    assert page.status_code == 200 and "$120.00" in page.content.decode()
    assert "Approve and refund" not in page.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == RefundApprovalStatus.OPEN
    assert stripe_refunded(sandbox, waiting.order) == []


def test_the_to_do_list_shows_open_requests_unless_asked_for_all(client, sandbox, waiting):
    refund_approval_decline(approval_id=waiting.pk, actor=staff_member(FINANCE))
    client.force_login(staff_member(FINANCE))

    open_only = client.get("/admin/payments/refundapproval/")
    everything = client.get("/admin/payments/refundapproval/", {"status": "all"})

    assert list(open_only.context["cl"].result_list) == []
    assert list(everything.context["cl"].result_list) == [waiting]


def test_supports_admin_refund_above_the_limit_says_it_went_to_finance(client, sandbox, paid_order):
    order = paid_order
    client.force_login(staff_member(SUPPORT))
    url = f"/admin/payments/order/{order.pk}/refund/"

    form = {"amount": "135.50", "reason": "requested_by_customer", "token": "t"}

    review = client.post(url, form)
    sent = client.post(url, {**form, "confirm": "1"}, follow=True)
    again = client.post(url, {**form, "confirm": "1"})

    assert "Refund $135.50 of $135.50?" in review.content.decode()
    assert "sent to Finance for approval" in review.content.decode()
    assert [str(m) for m in sent.context["messages"]] == [
        "Refund of $135.50 sent to Finance for approval: Support may refund up to $100.00 of one order "
        "in total ($0.00 refunded by Support so far)."
    ]
    assert again.status_code == 302
    assert RefundApproval.objects.count() == 1
    assert stripe_refunded(sandbox, order) == []
