"""Every order of delivery, and every event twice, ends in the state the right order gives.

The events of one real sandbox payment are posted to the connect endpoint in each permutation
(then all of them again); the order, its Payment and its audit trail must come out the same.
"""

import itertools

import pytest

from payments import stripe_api
from payments.models import AuditEvent, OrderStatus
from payments.tests.webhook_support import CONNECT_PATH, pay, post_event, sandbox_order

pytestmark = pytest.mark.django_db


def trail(order):
    return list(
        AuditEvent.objects.filter(order=order, action="order.transition")
        .order_by("id").values_list("to_status", flat=True)
    )


def post_all(client, events):
    for event in [*events, *events]:  # each one twice
        assert post_event(client, event, path=CONNECT_PATH).status_code == 200


@pytest.mark.parametrize("order_of_events", list(itertools.permutations(range(3))))
def test_a_payment_and_two_partial_refunds_in_any_order(client, stripe_sandbox, order_of_events):
    order = sandbox_order(stripe_sandbox, price_cents=5000)
    pay(order)
    stripe_api.refund_create(order=order, amount_cents=1000, idempotency_key="first")
    stripe_api.refund_create(order=order, amount_cents=1500, idempotency_key="second")
    events = [
        *stripe_sandbox.events(type="payment_intent.succeeded"),
        *stripe_sandbox.events(type="charge.refunded"),
    ]

    post_all(client, [events[i] for i in order_of_events])

    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert (order.payment.amount_refunded_cents, order.payment.fee_refunded_cents) == (2500, 250)
    assert trail(order) == ["paid", "partially_refunded"]


DISPUTE_EVENTS = ["payment_intent.succeeded", "charge.dispute.created", "charge.dispute.updated",
                  "charge.dispute.closed"]


@pytest.mark.parametrize("order_of_events", list(itertools.permutations(range(4))))
def test_a_payment_and_a_lost_dispute_in_any_order(client, stripe_sandbox, order_of_events):
    import stripe

    order = sandbox_order(stripe_sandbox)
    pay(order)
    charge_id = stripe_sandbox.get(order.payment_intent_id)["latest_charge"]
    dispute = stripe_sandbox.open_dispute(charge_id)
    stripe.Dispute.modify(dispute["id"], evidence={"product_description": "stub"},
                          stripe_account=order.stripe_account_id)
    stripe_sandbox.resolve_dispute(dispute["id"], "lost")
    events = [stripe_sandbox.events(type=event_type)[0] for event_type in DISPUTE_EVENTS]

    post_all(client, [events[i] for i in order_of_events])

    order.refresh_from_db()
    assert order.status == OrderStatus.DISPUTE_LOST
    assert order.payment.dispute_status == "lost"
    assert trail(order) == ["paid", "disputed", "dispute_lost"]


@pytest.mark.parametrize("reverse", [False, True])
def test_a_decline_then_a_good_card_end_paid_whichever_arrives_first(client, stripe_sandbox, reverse):
    order = sandbox_order(stripe_sandbox)
    pay(order, "pm_card_chargeDeclined")
    pay(order, "pm_card_visa")
    events = [stripe_sandbox.events(type="payment_intent.payment_failed")[0],
              stripe_sandbox.events(type="payment_intent.succeeded")[0]]

    post_all(client, events[::-1] if reverse else events)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.listing.status == "sold"
    assert trail(order)[-1] == "paid"
