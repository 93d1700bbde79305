import pytest
import stripe

from .conftest import pay


def fee_of(pi, account):
    charge = stripe.Charge.retrieve(pi.latest_charge, stripe_account=account)
    return stripe.ApplicationFee.retrieve(charge.application_fee)


def test_partial_refunds_refund_the_fee_in_proportion_and_never_exceed_the_charge(
        stripe_sandbox, seller):
    pi = pay(seller["id"], amount=1999, fee=200)
    stripe_sandbox.advance_time(8 * 86400)  # the charge's money is available: refunds go at once
    refund = stripe.Refund.create(payment_intent=pi.id, amount=1000, refund_application_fee=True,
                                  reason="requested_by_customer", metadata={"order": "1"},
                                  stripe_account=seller["id"])
    assert refund.id.startswith("re_") and refund.object == "refund"
    assert (refund.amount, refund.status, refund.charge) == (1000, "succeeded", pi.latest_charge)
    assert refund.metadata["order"] == "1"
    fee = fee_of(pi, seller["id"])
    # 200 * 1000 / 1999 = 100.05 -> 100
    assert fee.amount_refunded == 100
    assert fee.refunds.data[0].id.startswith("fr_")
    assert fee.refunds.data[0].object == "fee_refund"
    charge = stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"])
    assert (charge.amount_refunded, charge.refunded) == (1000, False)
    assert [r.id for r in charge.refunds.data] == [refund.id]

    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Refund.create(charge=charge.id, amount=1000, stripe_account=seller["id"])
    assert caught.value.param == "amount"
    assert "greater than unrefunded amount" in caught.value.user_message

    rest = stripe.Refund.create(charge=charge.id, refund_application_fee=True,
                                stripe_account=seller["id"])
    assert rest.amount == 999
    fee = fee_of(pi, seller["id"])
    assert (fee.amount_refunded, fee.refunded) == (200, True)
    charge = stripe.Charge.retrieve(charge.id, stripe_account=seller["id"])
    assert (charge.amount_refunded, charge.refunded) == (1999, True)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Refund.create(payment_intent=pi.id, stripe_account=seller["id"])
    assert caught.value.code == "charge_already_refunded"

    types = [e["type"] for e in stripe_sandbox.events(account=seller["id"])]
    assert types.count("charge.refunded") == 2 and types.count("refund.created") == 2
    assert len(stripe_sandbox.events("application_fee.refunded", account="platform")) == 2
    assert stripe.Refund.retrieve(refund.id, stripe_account=seller["id"]).amount == 1000


def test_refund_without_fee_refund_keeps_the_platform_fee(stripe_sandbox, seller):
    pi = pay(seller["id"], amount=5000, fee=500)
    stripe.Refund.create(payment_intent=pi.id, stripe_account=seller["id"])
    assert fee_of(pi, seller["id"]).amount_refunded == 0
    assert stripe_sandbox.events("application_fee.refunded") == []


def test_refunds_come_out_of_the_seller_balance_once_it_can_cover_them(stripe_sandbox, seller):
    pi = pay(seller["id"], amount=5000, fee=500)
    refund = stripe.Refund.create(payment_intent=pi.id, amount=2000, refund_application_fee=True,
                                  stripe_account=seller["id"])
    # Nothing is available yet (the charge's 4325 is pending for the payout delay): it waits.
    assert refund.status == "pending" and refund.balance_transaction is None
    balance = stripe.Balance.retrieve(stripe_account=seller["id"])
    assert (balance.pending[0].amount, balance.available[0].amount) == (4325, 0)
    platform = stripe.Balance.retrieve()
    assert (platform.pending[0].amount, platform.available[0].amount) == (500, -200)

    stripe_sandbox.advance_time(8 * 86400)

    refund = stripe.Refund.retrieve(refund.id, stripe_account=seller["id"])
    assert refund.status == "succeeded" and refund.balance_transaction
    balance = stripe.Balance.retrieve(stripe_account=seller["id"])
    # -2000 refund + 200 application fee returned, out of the now available 4325.
    assert (balance.pending[0].amount, balance.available[0].amount) == (0, 2525)
    assert [e["type"] for e in stripe_sandbox.events(account=seller["id"])
            if e["type"].startswith(("refund.", "charge.refund"))] == [
        "refund.created", "charge.refunded", "charge.refund.updated", "refund.updated"]


def test_refund_needs_a_succeeded_payment(stripe_sandbox, seller):
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"])
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Refund.create(payment_intent=pi.id, stripe_account=seller["id"])
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Refund.create(charge="ch_nope", stripe_account=seller["id"])
    assert caught.value.http_status == 404


def test_dispute_lifecycle_with_evidence_and_a_won_outcome(stripe_sandbox, seller):
    pi = pay(seller["id"])
    dispute = stripe_sandbox.open_dispute(pi.latest_charge)
    assert dispute["id"].startswith("dp_") and dispute["status"] == "needs_response"
    balance = stripe.Balance.retrieve(stripe_account=seller["id"])
    assert balance.available[0].amount == -5000 - 1500

    updated = stripe.Dispute.modify(dispute["id"], stripe_account=seller["id"], evidence={
        "product_description": "A 1962 World Series ticket stub",
        "shipping_tracking_number": "1Z999"}, submit=True)
    assert updated.status == "under_review"
    assert updated.evidence.product_description == "A 1962 World Series ticket stub"
    assert stripe_sandbox.events("charge.dispute.updated", account=seller["id"])

    response = stripe_sandbox.request("POST", f"/_sandbox/disputes/{dispute['id']}/resolve",
                                      {"outcome": "won"},
                                      headers={"Stripe-Account": seller["id"]})
    assert response.status == 200 and response.json()["status"] == "won"
    closed = stripe_sandbox.events("charge.dispute.closed", account=seller["id"])
    assert closed[-1]["data"]["object"]["status"] == "won"
    balance = stripe.Balance.retrieve(stripe_account=seller["id"])
    assert balance.available[0].amount == 0


def test_lost_dispute_takes_amount_and_fee(stripe_sandbox, seller):
    pi = pay(seller["id"])
    dispute = stripe_sandbox.open_dispute(pi.latest_charge)
    assert stripe_sandbox.resolve_dispute(dispute["id"], "lost")["status"] == "lost"
    balance = stripe.Balance.retrieve(stripe_account=seller["id"])
    assert balance.available[0].amount == -6500
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Dispute.close(dispute["id"], stripe_account=seller["id"])


def test_seller_accepting_a_dispute_loses_it(stripe_sandbox, seller):
    pi = pay(seller["id"])
    response = stripe_sandbox.request("POST", f"/_sandbox/charges/{pi.latest_charge}/dispute")
    dispute_id = response.json()["id"]
    closed = stripe.Dispute.close(dispute_id, stripe_account=seller["id"])
    assert closed.status == "lost"
    assert stripe_sandbox.events("charge.dispute.closed", account=seller["id"])
    assert stripe.Dispute.retrieve(dispute_id, stripe_account=seller["id"]).status == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Dispute.retrieve(dispute_id)


def test_disputed_charge_cannot_be_refunded(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_disputed")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Refund.create(payment_intent=pi.id, stripe_account=seller["id"])
    assert caught.value.code == "charge_disputed"


def test_platform_can_refund_its_application_fee_directly(stripe_sandbox, seller):
    pi = pay(seller["id"], amount=5000, fee=500)
    fee = fee_of(pi, seller["id"])
    fee_refund = stripe.ApplicationFee.create_refund(fee.id, amount=200)
    assert fee_refund.object == "fee_refund" and fee_refund.amount == 200
    assert stripe.ApplicationFee.retrieve(fee.id).amount_refunded == 200
    # The seller gets the 200 back at once; the platform gives it up.
    assert stripe.Balance.retrieve(stripe_account=seller["id"]).available[0].amount == 200
    assert stripe.Balance.retrieve().available[0].amount == -200
    with pytest.raises(stripe.InvalidRequestError):
        stripe.ApplicationFee.create_refund(fee.id, amount=301)


def test_evidence_can_no_longer_be_sent_after_the_due_date(stripe_sandbox, seller):
    pi = pay(seller["id"])
    dispute = stripe_sandbox.open_dispute(pi.latest_charge)
    assert dispute["evidence_details"]["past_due"] is False
    stripe_sandbox.advance_time(8 * 86400)  # unanswered: lost at the due date, as Stripe does
    dispute = stripe.Dispute.retrieve(dispute["id"], stripe_account=seller["id"])
    assert dispute.status == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Dispute.modify(dispute.id, stripe_account=seller["id"],
                              evidence={"product_description": "late"})
