"""charge.dispute.* events through the real webhook views: disputed, won, lost, and out of order."""

import pytest
import stripe
from django.db import transaction
from djstripe import models as djstripe_models

from payments.models import AuditEvent, OrderStatus, PaymentStatus
from payments.services.orders import order_transition
from payments.tests.webhook_support import CONNECT_PATH, deliver, pay, post_event, sandbox_order

pytestmark = pytest.mark.django_db

def transitions(order):
    return list(
        AuditEvent.objects.filter(order=order, action="order.transition")
        .order_by("id").values_list("to_status", flat=True)
    )


def test_a_dispute_marks_the_order_disputed_and_shows_on_the_payment(paid_order, webhook_sandbox):
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)
    deliver(webhook_sandbox)

    paid_order.refresh_from_db()
    payment = paid_order.payment
    assert paid_order.status == OrderStatus.DISPUTED and paid_order.disputed_at is not None
    assert paid_order.status_before_dispute == OrderStatus.PAID
    assert (payment.dispute_id, payment.dispute_status) == (dispute["id"], "needs_response")
    assert payment.status == PaymentStatus.DISPUTED
    assert djstripe_models.Dispute.objects.filter(id=dispute["id"]).exists()


def test_a_won_dispute_returns_the_order_to_where_it_was(paid_order, webhook_sandbox):
    with transaction.atomic():
        order_transition(order=paid_order, to=OrderStatus.SHIPPED, message="shipped")
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)
    deliver(webhook_sandbox)

    webhook_sandbox.resolve_dispute(dispute["id"], "won")
    deliver(webhook_sandbox)

    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.SHIPPED
    assert paid_order.payment.dispute_status == "won"
    assert paid_order.payment.status == PaymentStatus.SUCCEEDED
    assert transitions(paid_order) == ["paid", "shipped", "disputed", "shipped"]


def test_a_lost_dispute_ends_the_order_as_dispute_lost(paid_order, webhook_sandbox):
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)
    deliver(webhook_sandbox)

    webhook_sandbox.resolve_dispute(dispute["id"], "lost")
    deliver(webhook_sandbox)

    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.DISPUTE_LOST
    assert paid_order.payment.status == PaymentStatus.DISPUTE_LOST


def test_evidence_submitted_keeps_the_order_disputed_and_records_the_review(paid_order, webhook_sandbox):
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)
    deliver(webhook_sandbox)

    stripe.Dispute.modify(dispute["id"], evidence={"product_description": "A 1977 stub"},
                          stripe_account=paid_order.stripe_account_id)
    deliver(webhook_sandbox)

    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.DISPUTED
    assert paid_order.payment.dispute_status == "under_review"
    assert transitions(paid_order) == ["paid", "disputed"]


def test_a_card_that_is_disputed_right_after_paying_ends_disputed(webhook_sandbox):
    order = sandbox_order(webhook_sandbox)

    pay(order, "pm_card_createDispute")
    deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.status == OrderStatus.DISPUTED
    assert order.listing.status == "sold"
    assert transitions(order) == ["paid", "disputed"]


def test_a_partially_refunded_order_returns_there_when_its_dispute_is_won(
    client, paid_order, webhook_sandbox
):
    client.force_login(paid_order.seller)
    url = f"/payments/orders/{paid_order.pk}/refund/"
    client.post(url, {"amount": 1000}, content_type="application/json")
    deliver(webhook_sandbox)
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)
    deliver(webhook_sandbox)

    webhook_sandbox.resolve_dispute(dispute["id"], "won")
    deliver(webhook_sandbox)

    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PARTIALLY_REFUNDED
    assert paid_order.payment.status == PaymentStatus.PARTIALLY_REFUNDED


# -- out of order: events posted by hand --------------------------------------------------------


def one(sandbox, event_type):
    (event,) = sandbox.events(type=event_type)
    return event


def test_a_dispute_closed_before_its_created_event_ends_where_the_right_order_would(client, stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    post_event(client, one(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)
    charge_id = stripe_sandbox.get(order.payment_intent_id)["latest_charge"]
    dispute = stripe_sandbox.open_dispute(charge_id)
    stripe_sandbox.resolve_dispute(dispute["id"], "lost")

    closed = post_event(client, one(stripe_sandbox, "charge.dispute.closed"), path=CONNECT_PATH)
    created = post_event(client, one(stripe_sandbox, "charge.dispute.created"), path=CONNECT_PATH)

    assert closed.status_code == created.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPUTE_LOST
    assert transitions(order) == ["paid", "disputed", "dispute_lost"]


def test_a_won_dispute_closed_before_created_leaves_the_order_paid(client, stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    post_event(client, one(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)
    charge_id = stripe_sandbox.get(order.payment_intent_id)["latest_charge"]
    dispute = stripe_sandbox.open_dispute(charge_id)
    stripe_sandbox.resolve_dispute(dispute["id"], "won")

    post_event(client, one(stripe_sandbox, "charge.dispute.closed"), path=CONNECT_PATH)
    post_event(client, one(stripe_sandbox, "charge.dispute.created"), path=CONNECT_PATH)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payment.dispute_status == "won"


def test_a_dispute_that_arrives_before_the_success_records_both(client, stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order, "pm_card_createDispute")

    post_event(client, one(stripe_sandbox, "charge.dispute.created"), path=CONNECT_PATH)
    post_event(client, one(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)
    post_event(client, one(stripe_sandbox, "charge.dispute.created"), path=CONNECT_PATH)  # and again

    order.refresh_from_db()
    assert order.status == OrderStatus.DISPUTED
    assert transitions(order) == ["paid", "disputed"]
    assert order.payment.dispute_status == "needs_response"
