"""Refund reasons and the note to the buyer: ours (not as described, not received, damaged,
cancelled by the seller, other) besides Stripe's, each sent to Stripe as the nearest of its own;
confirmations in words; `fraudulent` only from staff; the note in the buyer's refund email."""

import pytest
from django.core import mail

from payments.models import RefundApproval
from payments.services.refunds import FraudulentRefundNotAllowed, refund_approval_approve, refund_request
from payments.staff import FINANCE, SUPPORT
from payments.tests.factories import staff_member
from payments.tests.test_refunds import (
    _paid_order_build,
    post_refund,
    refund_url,
)
from payments.tests.webhook_support import deliver, sandbox_refunds
from testing import paid_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
@paid_snapshot.shared(_paid_order_build)
def paid_order(webhook_sandbox, client, request):
    """test_refunds' $50 order, paid and past the payout delay, made once for the tests that
    take it (testing/paid_snapshot.py)."""
    return paid_snapshot.take(request, webhook_sandbox, client, _paid_order_build)


def test_a_seller_refunds_a_damaged_stub_with_a_note_and_stripe_hears_requested_by_customer(
    client, paid_order, webhook_sandbox, django_capture_on_commit_callbacks
):
    order = paid_order
    client.force_login(order.seller)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_refund(client, order, {"amount": 1000, "reason": "damaged",
                                               "buyer_note": "So sorry, it was creased in the post."})
        deliver(webhook_sandbox)

    assert response.status_code == 201
    assert response.json()["marketplace_reason"] == "damaged"
    refund = order.refunds.get()
    assert (refund.reason, refund.marketplace_reason) == ("requested_by_customer", "damaged")
    assert refund.buyer_note == "So sorry, it was creased in the post."
    assert [r["reason"] for r in sandbox_refunds(webhook_sandbox, order)] == ["requested_by_customer"]
    to_buyer = [m for m in mail.outbox if m.to == [order.buyer.email]]
    assert to_buyer and all("So sorry, it was creased in the post." in m.body for m in to_buyer)
    assert all("(damaged)" in m.body or ", damaged." in m.body for m in to_buyer)


@pytest.mark.parametrize("reason", ["cancelled_by_seller", "other"])
def test_a_reason_stripe_has_no_word_for_is_sent_without_one(client, paid_order, webhook_sandbox, reason):
    order = paid_order
    client.force_login(order.seller)

    assert post_refund(client, order, {"amount": 500, "reason": reason}).status_code == 201

    assert [r["reason"] for r in sandbox_refunds(webhook_sandbox, order)] == [None]
    assert order.refunds.get().marketplace_reason == reason


def test_a_seller_is_not_offered_fraudulent_and_cannot_send_it(client, paid_order, webhook_sandbox):
    order = paid_order
    client.force_login(order.seller)

    page = client.get(f"/orders/{order.pk}/").content.decode()
    json_answer = post_refund(client, order, {"amount": 500, "reason": "fraudulent"})
    form_answer = client.post(refund_url(order), {"amount": "5.00", "reason": "fraudulent"}, follow=True)

    assert 'value="not_as_described"' in page and 'value="fraudulent"' not in page
    assert json_answer.status_code == 403
    assert json_answer.json()["error"]["code"] == "reason_not_allowed"
    assert "Only our staff can refund a payment as fraudulent" in form_answer.content.decode()
    assert sandbox_refunds(webhook_sandbox, order) == []
    with pytest.raises(FraudulentRefundNotAllowed):
        refund_request(order_id=order.pk, actor=order.seller, amount_cents=500, reason="fraudulent")


def test_finance_may_refund_as_fraudulent(client, paid_order, webhook_sandbox):
    order = paid_order
    client.force_login(staff_member(FINANCE))

    assert post_refund(client, order, {"amount": 500, "reason": "fraudulent"}).status_code == 201
    assert [r["reason"] for r in sandbox_refunds(webhook_sandbox, order)] == ["fraudulent"]


def test_the_sellers_confirmation_shows_the_reason_in_words_and_the_note(client, paid_order, webhook_sandbox):
    order = paid_order
    client.force_login(order.seller)

    page = client.post(refund_url(order), {"amount": "5.00", "reason": "requested_by_customer",
                                           "buyer_note": "Refunding as agreed."}).content.decode()
    damaged = client.post(refund_url(order), {"amount": "5.00", "reason": "not_as_described"})
    damaged = damaged.content.decode()

    assert 'id="confirm-reason">Requested by the buyer<' in page
    assert 'id="confirm-buyer-note">Refunding as agreed.<' in page
    assert 'name="buyer_note" value="Refunding as agreed."' in page
    assert 'id="confirm-reason">Not as described<' in damaged
    assert sandbox_refunds(webhook_sandbox, order) == []  # nothing sent before the confirmation


def test_an_unknown_reason_or_a_note_too_long_is_400_and_refunds_nothing(client, paid_order,
                                                                       webhook_sandbox):
    order = paid_order
    client.force_login(order.seller)

    bad_reason = post_refund(client, order, {"amount": 500, "reason": "changed_my_mind"})
    long_note = post_refund(client, order, {"amount": 500, "buyer_note": "x" * 1001})
    not_text = post_refund(client, order, {"amount": 500, "buyer_note": ["a"]})

    assert (bad_reason.status_code, bad_reason.json()["error"]["code"]) == (400, "invalid_reason")
    assert (long_note.status_code, long_note.json()["error"]["code"]) == (400, "invalid_note")
    assert not_text.status_code == 400
    assert sandbox_refunds(webhook_sandbox, order) == []


def test_finance_refunds_from_admin_with_our_reason_and_a_note(client, paid_order, webhook_sandbox):
    order = paid_order
    client.force_login(staff_member(FINANCE))
    url = f"/admin/payments/order/{order.pk}/refund/"
    form = {"amount": "10.00", "reason": "not_received", "note": "Tracking shows lost.",
            "buyer_note": "The parcel was lost; here is your money.", "token": "tok-1"}

    blank = client.get(url).content.decode()
    preview = client.post(url, form).content.decode()
    done = client.post(url, {**form, "confirm": "1"})

    assert 'value="fraudulent"' in blank and 'value="damaged"' in blank
    assert 'id="preview-reason">Not received<' in preview
    assert "not_received" not in preview.split('id="refund-preview"')[1].split("</table>")[0]
    assert "The parcel was lost; here is your money." in preview
    assert done.status_code == 302
    refund = order.refunds.get()
    assert (refund.reason, refund.marketplace_reason, refund.note) == (
        "requested_by_customer", "not_received", "Tracking shows lost."
    )
    assert refund.buyer_note == "The parcel was lost; here is your money."
    assert "Not received" in client.get(f"/admin/payments/order/{order.pk}/change/").content.decode()


def test_supports_request_above_the_limit_keeps_its_reason_and_note_when_finance_approves(
    paid_order, webhook_sandbox, settings
):
    settings.SUPPORT_REFUND_LIMIT_CENTS = 1000
    order = paid_order

    approval = refund_request(order_id=order.pk, actor=staff_member(SUPPORT), amount_cents=2000,
                              reason="not_as_described", buyer_note="We checked the photos.")
    assert isinstance(approval, RefundApproval)
    refund = refund_approval_approve(approval_id=approval.pk, actor=staff_member(FINANCE))

    assert (refund.reason, refund.marketplace_reason) == ("requested_by_customer", "not_as_described")
    assert refund.buyer_note == "We checked the photos."
