"""Refunds that do not succeed at once, as Stripe's test cards and balances make them
(https://docs.stripe.com/testing#refunds, https://docs.stripe.com/refunds#failed-refunds)."""

import stripe

from .conftest import pay

DAY = 86400


def refund_events(sandbox, account):
    return [
        (e["type"], e["data"]["object"]["status"])
        for e in sandbox.events(account=account)
        if e["type"] in ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")
    ]


def test_a_refund_the_available_balance_cannot_cover_waits_pending_then_succeeds(stripe_sandbox, seller):
    pi = pay(seller["id"], amount=5000, fee=500)

    # 4000 less the 400 fee returned: 3600 out of the 4325 the sale left, once available.
    refund = stripe.Refund.create(
        payment_intent=pi.id, amount=4000, refund_application_fee=True, stripe_account=seller["id"]
    )

    assert refund.status == "pending"
    charge = stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"])
    assert (charge.amount_refunded, charge.refunded) == (4000, False)  # pending refunds count
    stripe_sandbox.advance_time(1 * DAY)  # still inside the payout delay: still waiting
    assert stripe.Refund.retrieve(refund.id, stripe_account=seller["id"]).status == "pending"

    stripe_sandbox.advance_time(7 * DAY)

    assert stripe.Refund.retrieve(refund.id, stripe_account=seller["id"]).status == "succeeded"
    assert refund_events(stripe_sandbox, seller["id"]) == [
        ("refund.created", "pending"),
        ("charge.refund.updated", "succeeded"),
        ("refund.updated", "succeeded"),
    ]


def test_the_pending_refund_card_waits_even_with_money_available(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_pendingRefund")
    stripe_sandbox.advance_time(8 * DAY)

    refund = stripe.Refund.create(payment_intent=pi.id, stripe_account=seller["id"])
    assert refund.status == "pending"

    moved = stripe_sandbox.settle_refunds(refund.id)

    assert [r["status"] for r in moved] == ["succeeded"]


def test_the_refund_failure_card_succeeds_then_fails_and_the_money_comes_back(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_refundFail", amount=5000, fee=500)
    stripe_sandbox.advance_time(8 * DAY)
    refund = stripe.Refund.create(
        payment_intent=pi.id, amount=2000, stripe_account=seller["id"], metadata={"refund_row_id": "7"}
    )
    assert refund.status == "succeeded"
    available_after_refund = stripe.Balance.retrieve(stripe_account=seller["id"]).available[0].amount

    stripe_sandbox.settle_refunds()

    refund = stripe.Refund.retrieve(refund.id, stripe_account=seller["id"])
    assert (refund.status, refund.failure_reason) == ("failed", "expired_or_canceled_card")
    assert refund.metadata["refund_row_id"] == "7"
    charge = stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"])
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    balance = stripe.Balance.retrieve(stripe_account=seller["id"]).available[0].amount
    assert balance == available_after_refund + 2000
    assert refund_events(stripe_sandbox, seller["id"])[-3:] == [
        ("charge.refund.updated", "failed"),
        ("refund.updated", "failed"),
        ("refund.failed", "failed"),
    ]
    # Once failed, it stays failed.
    assert stripe_sandbox.settle_refunds() == []


def test_refunds_of_a_payment_are_listed_by_payment_intent(stripe_sandbox, seller):
    pi = pay(seller["id"], amount=5000, fee=500)
    first = stripe.Refund.create(payment_intent=pi.id, amount=1000, stripe_account=seller["id"])
    second = stripe.Refund.create(payment_intent=pi.id, amount=500, stripe_account=seller["id"])

    listed = stripe.Refund.list(payment_intent=pi.id, stripe_account=seller["id"])

    assert {r.id for r in listed.data} == {first.id, second.id}


def test_the_settle_route_answers_over_http(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_pendingRefund")
    refund = stripe.Refund.create(payment_intent=pi.id, stripe_account=seller["id"])

    response = stripe_sandbox.request("POST", f"/_sandbox/refunds/{refund.id}/settle")

    assert response.status == 200
    assert stripe.Refund.retrieve(refund.id, stripe_account=seller["id"]).status == "succeeded"


def test_a_refund_the_sale_alone_can_never_cover_settles_when_named(stripe_sandbox, seller):
    pi = pay(seller["id"], amount=5000, fee=500)
    refund = stripe.Refund.create(
        payment_intent=pi.id, refund_application_fee=True, stripe_account=seller["id"]
    )
    stripe_sandbox.advance_time(30 * DAY)  # 4325 available, 4500 needed: still pending
    assert stripe.Refund.retrieve(refund.id, stripe_account=seller["id"]).status == "pending"

    stripe_sandbox.settle_refunds(refund.id)

    assert stripe.Refund.retrieve(refund.id, stripe_account=seller["id"]).status == "succeeded"
    assert stripe.Balance.retrieve(stripe_account=seller["id"]).available[0].amount == 4325 - 4500
