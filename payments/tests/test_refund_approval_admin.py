"""Finance's Approve and Decline on the refund approvals list: each shows a confirmation page
first (each request, what the button does to it, or why it can no longer be decided), and only
that page's "confirm" POST refunds or declines."""

import pytest

from payments.models import RefundApprovalStatus
from payments.services.refunds import refund_approval_decline, refund_request
from payments.staff import FINANCE, SUPPORT
from payments.tests.factories import staff_member
from payments.tests.test_refund_limits import _paid_order_build, stripe_refunded
from payments.tests.webhook_support import endpoints_register
from testing import paid_snapshot

pytestmark = pytest.mark.django_db

LIST = "/admin/payments/refundapproval/"


@pytest.fixture
def sandbox(stripe_sandbox, client, settings):
    settings.SUPPORT_REFUND_LIMIT_CENTS = 10000
    settings.SUPPORT_REFUND_DAILY_LIMIT_CENTS = 50000
    return endpoints_register(stripe_sandbox, client)


@pytest.fixture
@paid_snapshot.shared(_paid_order_build)
def paid_order(sandbox, client, request):
    """test_refund_limits' $135.50 order, paid and past the payout delay, made once for the tests
    that take it (testing/paid_snapshot.py)."""
    return paid_snapshot.take(request, sandbox, client, _paid_order_build)


@pytest.fixture
def waiting(paid_order):
    """Support asked for $120.00 of a $135.50 order, above its $100 limit."""
    support = staff_member(SUPPORT, username="agent")
    return refund_request(
        order_id=paid_order.pk, actor=support, amount_cents=12000, buyer_note="Sorry about the crease."
    )


@pytest.fixture
def finance(client):
    user = staff_member(FINANCE)
    client.force_login(user)
    return user


def act(client, action, approval, *, confirm=False, url=LIST):
    body = {"action": action, "_selected_action": [approval.pk]}
    if confirm:
        body["confirm"] = "1"
    return client.post(url, body, follow=confirm)


def told(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_approve_shows_what_will_happen_and_refunds_nothing_yet(client, sandbox, waiting, finance):
    page = act(client, "approve", waiting)

    html = page.content.decode()
    assert page.status_code == 200
    assert page.templates[0].name == "admin/payments/refundapproval/decide.html"
    assert f"#{waiting.order_id}" in html and "$120.00" in html and "agent" in html
    assert waiting.why in html and "Sorry about the crease." in html
    assert "This cannot be undone" in html and "from the seller's Stripe balance" in html
    assert "the seller's balance loses $" in html
    assert 'class="button danger" id="confirm-approve">Yes, refund $120.00 (1 request)' in html
    assert f'href="{LIST}" id="go-back">No, go back' in html
    waiting.refresh_from_db()
    assert waiting.status == RefundApprovalStatus.OPEN
    assert stripe_refunded(sandbox, waiting.order) == []


def test_the_confirm_post_approves_and_refunds(client, sandbox, waiting, finance):
    response = act(client, "approve", waiting, confirm=True)

    assert response.redirect_chain[-1][0].startswith(LIST)
    assert f"#{waiting.order_id}: refund of $120.00 succeeded." in told(response)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.decided_by) == (RefundApprovalStatus.APPROVED, finance)
    assert stripe_refunded(sandbox, waiting.order) == [12000]


def test_going_back_leaves_the_request_waiting(client, sandbox, waiting, finance):
    act(client, "approve", waiting)
    act(client, "decline", waiting)

    back = client.get(LIST)

    assert f"#{waiting.order_id}" in back.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == RefundApprovalStatus.OPEN
    assert stripe_refunded(sandbox, waiting.order) == []


def test_decline_says_nothing_is_refunded_then_closes_the_request(client, sandbox, waiting, finance):
    page = act(client, "decline", waiting).content.decode()
    response = act(client, "decline", waiting, confirm=True)

    assert "Nothing is refunded" in page and "where the Support agent who asked sees it" in page
    assert 'id="confirm-decline">Yes, decline 1 request (nothing is refunded)' in page
    assert f"#{waiting.order_id}: refund of $120.00 declined; nothing was refunded." in told(response)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.decided_by) == (RefundApprovalStatus.DECLINED, finance)
    assert waiting.order.audit_events.filter(action="refund.declined").count() == 1
    assert stripe_refunded(sandbox, waiting.order) == []


@pytest.mark.parametrize("action", ["approve", "decline"])
def test_support_has_neither_action_nor_page(client, sandbox, waiting, action):
    client.force_login(staff_member(SUPPORT))

    page = act(client, action, waiting)
    confirmed = act(client, action, waiting, confirm=True)

    # Django admin has no such action for Support: the list again, nothing done.
    for response in (page, confirmed):
        assert response.status_code == 200 and "confirm-" not in response.content.decode()
        assert response.templates[0].name == "admin/change_list.html"
    waiting.refresh_from_db()
    assert waiting.status == RefundApprovalStatus.OPEN
    assert stripe_refunded(sandbox, waiting.order) == []


@pytest.mark.parametrize("action", ["approve", "decline"])
def test_a_decided_request_is_shown_as_such_and_not_offered(client, sandbox, waiting, finance, action):
    refund_approval_decline(approval_id=waiting.pk, actor=finance)

    page = act(client, action, waiting, url=f"{LIST}?status=all").content.decode()

    verb = "approved" if action == "approve" else "declined"
    assert f"Cannot be {verb}: already declined" in page
    assert "confirm-" not in page and "Back to the refund approvals" in page


def test_a_request_for_more_than_is_left_says_why_it_cannot_be_approved(client, sandbox, waiting, finance):
    refund_request(order_id=waiting.order_id, actor=waiting.order.seller, amount_cents=5000)

    page = act(client, "approve", waiting).content.decode()

    assert "Cannot be approved: The amount must be between $0.01 and $85.50" in page
    assert "confirm-approve" not in page


@pytest.mark.parametrize("action", ["approve", "decline"])
def test_a_double_confirm_acts_once_and_says_why_the_second_did_nothing(
    client, sandbox, waiting, finance, action
):
    act(client, action, waiting, confirm=True)
    # The second POST comes from the default list of open requests, which the first has emptied.
    again = act(client, action, waiting, confirm=True)

    waiting.refresh_from_db()
    verb = "approved" if action == "approve" else "declined"
    assert waiting.status == verb
    assert f"#{waiting.order_id}: This refund request was already {verb}." in told(again)
    assert stripe_refunded(sandbox, waiting.order) == ([12000] if action == "approve" else [])
    assert waiting.order.audit_events.filter(action=f"refund.{verb}").count() == 1


def test_approving_all_that_is_left_says_whether_the_stub_goes_back_on_sale(client, paid_order, finance):
    order = paid_order
    whole = refund_request(order_id=order.pk, actor=staff_member(SUPPORT), amount_cents=13550)

    page = act(client, "approve", whole).content.decode()
    order.shipped_at = order.paid_at
    order.save(update_fields=["shipped_at"])
    shipped = act(client, "approve", whole).content.decode()

    assert ("gets $135.50 back (all that is left of the order: the stub was not shipped and goes back "
            "on sale)") in page
    assert "the stub was shipped, so it goes back on sale only if the seller relists it" in shipped


@pytest.mark.parametrize("confirm", [False, True])
def test_a_request_number_that_is_not_a_number_is_a_400(client, sandbox, waiting, finance, confirm):
    body = {"action": "approve", "_selected_action": [waiting.pk, "abc"]}
    if confirm:
        body["confirm"] = "1"

    response = client.post(LIST, body)

    assert response.status_code == 400
    waiting.refresh_from_db()
    assert waiting.status == RefundApprovalStatus.OPEN


def test_the_orders_refund_in_full_refuses_a_row_that_is_not_an_order_number(client, sandbox, paid_order,
                                                                              finance):
    order = paid_order

    response = client.post("/admin/payments/order/",
                           {"action": "refund_in_full", "_selected_action": ["1e3"]})

    assert response.status_code == 400
    assert stripe_refunded(sandbox, order) == []
