"""Stripe's rules the sandbox follows for inquiries and Radar's early fraud warnings, through the
real stripe SDK: a refund follows the dispute's `is_charge_refundable`, closing an inquiry
moves no money, `prevented` refunds the buyer, and the 5423 card raises an early fraud warning
that a full refund makes no longer actionable."""

import pytest
import stripe

from .conftest import pay
from .test_disputes_testmode import balance, dispute_of


def test_an_inquiry_can_be_refunded_but_a_chargeback_cannot(stripe_sandbox, seller):
    inquiry_pi = pay(seller["id"], payment_method="pm_card_createDisputeInquiry")
    chargeback_pi = pay(seller["id"], payment_method="pm_card_createDispute")
    assert dispute_of(stripe_sandbox, inquiry_pi)["is_charge_refundable"] is True
    assert dispute_of(stripe_sandbox, chargeback_pi)["is_charge_refundable"] is False

    refund = stripe.Refund.create(payment_intent=inquiry_pi.id, stripe_account=seller["id"])
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.Refund.create(payment_intent=chargeback_pi.id, stripe_account=seller["id"])

    assert refund.amount == inquiry_pi.amount
    assert refused.value.code == "charge_disputed"


def test_closing_an_inquiry_makes_it_lost_without_moving_money(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDisputeInquiry")
    before = balance(seller["id"])

    closed = stripe.Dispute.close(dispute_of(stripe_sandbox, pi)["id"], stripe_account=seller["id"])

    assert closed.status == "lost" and closed.balance_transactions == []
    assert balance(seller["id"]) == before
    assert not stripe_sandbox.events("charge.dispute.funds_withdrawn", account=seller["id"])


def test_a_prevented_inquiry_refunds_the_buyer_and_charges_no_dispute_fee(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDisputeInquiry")
    dispute = stripe_sandbox.resolve_dispute(dispute_of(stripe_sandbox, pi)["id"], "prevented")

    charge = stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"])
    assert dispute["payment_method_details"]["card"]["case_type"] == "resolution"
    assert charge.refunded and charge.amount_refunded == pi.amount
    assert not stripe_sandbox.events("charge.dispute.funds_withdrawn", account=seller["id"])


def test_an_inquiry_refunded_in_full_then_escalated_withdraws_nothing(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDisputeInquiry")
    dispute_id = dispute_of(stripe_sandbox, pi)["id"]
    stripe.Refund.create(payment_intent=pi.id, stripe_account=seller["id"])

    stripe.Dispute.modify(dispute_id, stripe_account=seller["id"],
                          evidence={"uncategorized_text": "losing_evidence"})

    assert stripe.Dispute.retrieve(dispute_id, stripe_account=seller["id"]).status == "needs_response"
    assert not stripe_sandbox.events("charge.dispute.funds_withdrawn", account=seller["id"])


def test_the_5423_card_raises_an_early_fraud_warning_on_the_sellers_account(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createIssuerFraudRecord")

    (event,) = stripe_sandbox.events("radar.early_fraud_warning.created", account=seller["id"])
    warning_id = event["data"]["object"]["id"]
    warning = stripe.radar.EarlyFraudWarning.retrieve(warning_id, stripe_account=seller["id"])
    listed = stripe.radar.EarlyFraudWarning.list(charge=pi.latest_charge, stripe_account=seller["id"])

    assert pi.status == "succeeded"
    assert (warning.charge, warning.payment_intent, warning.actionable) == (pi.latest_charge, pi.id, True)
    assert warning.fraud_type == "made_with_stolen_card" and warning.id.startswith("issfr_")
    assert [w.id for w in listed.data] == [warning.id]
    with pytest.raises(stripe.InvalidRequestError):
        stripe.radar.EarlyFraudWarning.retrieve(warning.id)  # it lives on the seller's account


def test_a_full_refund_makes_the_warning_no_longer_actionable(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createIssuerFraudRecord")
    stripe.Refund.create(payment_intent=pi.id, amount=100, stripe_account=seller["id"])
    assert not stripe_sandbox.events("radar.early_fraud_warning.updated", account=seller["id"])

    stripe.Refund.create(payment_intent=pi.id, stripe_account=seller["id"])

    (updated,) = stripe_sandbox.events("radar.early_fraud_warning.updated", account=seller["id"])
    assert updated["data"]["object"]["actionable"] is False
    assert updated["data"]["previous_attributes"] == {"actionable": True}
