"""Disputes as Stripe's test mode runs them: test cards, staged evidence, the evidence text that
decides the outcome, inquiries, accepting, and the funds events. Through the real stripe SDK."""

import pytest
import stripe

from .conftest import pay


def dispute_of(stripe_sandbox, pi):
    (event,) = [e for e in stripe_sandbox.events("charge.dispute.created")
                if e["data"]["object"]["payment_intent"] == pi.id]
    return event["data"]["object"]


def balance(account_id):
    return stripe.Balance.retrieve(stripe_account=account_id).available[0].amount


def test_the_0259_card_opens_a_fraudulent_chargeback_and_takes_the_money(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDispute")
    dispute = dispute_of(stripe_sandbox, pi)
    assert (dispute["status"], dispute["reason"]) == ("needs_response", "fraudulent")
    assert dispute["payment_method_details"]["card"]["case_type"] == "chargeback"
    assert dispute["evidence_details"]["due_by"] > stripe_sandbox.now()
    assert stripe_sandbox.events("charge.dispute.funds_withdrawn", account=seller["id"])
    assert balance(seller["id"]) == -5000 - 1500


def test_the_2685_card_disputes_as_product_not_received(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDisputeProductNotReceived")
    assert dispute_of(stripe_sandbox, pi)["reason"] == "product_not_received"


def test_the_inquiry_card_opens_an_inquiry_that_moves_no_money(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDisputeInquiry")
    dispute = dispute_of(stripe_sandbox, pi)
    assert dispute["status"] == "warning_needs_response"
    assert dispute["payment_method_details"]["card"]["case_type"] == "inquiry"
    assert dispute["balance_transactions"] == [] and dispute["is_charge_refundable"] is True
    assert not stripe_sandbox.events("charge.dispute.funds_withdrawn")


def test_staged_evidence_is_kept_without_submitting_and_can_be_changed(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDispute")
    dispute_id = dispute_of(stripe_sandbox, pi)["id"]

    staged = stripe.Dispute.modify(dispute_id, stripe_account=seller["id"], submit=False,
                                   evidence={"shipping_tracking_number": "1Z1"})
    again = stripe.Dispute.modify(dispute_id, stripe_account=seller["id"], submit=False,
                                  evidence={"shipping_tracking_number": "1Z2"})

    assert staged.status == again.status == "needs_response"
    assert again.evidence.shipping_tracking_number == "1Z2"
    assert again.evidence_details.has_evidence is True
    assert again.evidence_details.submission_count == 0


def test_winning_evidence_wins_and_gives_back_the_money_and_the_fee(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDispute")
    dispute_id = dispute_of(stripe_sandbox, pi)["id"]

    stripe.Dispute.modify(dispute_id, stripe_account=seller["id"], submit=True,
                          evidence={"uncategorized_text": "winning_evidence"})

    dispute = stripe.Dispute.retrieve(dispute_id, stripe_account=seller["id"])
    assert dispute.status == "won" and dispute.evidence_details.submission_count == 1
    types = [e["type"] for e in stripe_sandbox.events(account=seller["id"])
             if e["type"].startswith("charge.dispute.")]
    assert types == ["charge.dispute.created", "charge.dispute.funds_withdrawn",
                     "charge.dispute.updated", "charge.dispute.funds_reinstated",
                     "charge.dispute.closed"]
    assert balance(seller["id"]) == 0


def test_losing_evidence_loses_and_the_money_stays_gone(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDispute")
    dispute_id = dispute_of(stripe_sandbox, pi)["id"]

    stripe.Dispute.modify(dispute_id, stripe_account=seller["id"],
                          evidence={"uncategorized_text": "losing_evidence"})  # submit defaults to true

    assert stripe.Dispute.retrieve(dispute_id, stripe_account=seller["id"]).status == "lost"
    assert not stripe_sandbox.events("charge.dispute.funds_reinstated")
    assert balance(seller["id"]) == -5000 - 1500


def test_other_evidence_waits_under_review_for_the_network(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDispute")
    dispute_id = dispute_of(stripe_sandbox, pi)["id"]

    stripe.Dispute.modify(dispute_id, stripe_account=seller["id"],
                          evidence={"product_description": "A stub"})

    assert stripe.Dispute.retrieve(dispute_id, stripe_account=seller["id"]).status == "under_review"
    assert not stripe_sandbox.events("charge.dispute.closed")


def test_an_inquiry_won_closes_as_warning_closed(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDisputeInquiry")
    dispute_id = dispute_of(stripe_sandbox, pi)["id"]

    stripe.Dispute.modify(dispute_id, stripe_account=seller["id"], submit=False,
                          evidence={"uncategorized_text": "winning_evidence"})
    assert stripe.Dispute.retrieve(dispute_id, stripe_account=seller["id"]).status == "warning_needs_response"
    stripe.Dispute.modify(dispute_id, stripe_account=seller["id"], submit=True)

    assert stripe.Dispute.retrieve(dispute_id, stripe_account=seller["id"]).status == "warning_closed"
    assert balance(seller["id"]) == 0  # no money ever moved (the charge is still pending)
    assert not stripe_sandbox.events("charge.dispute.funds_withdrawn")


def test_an_inquiry_answered_with_losing_evidence_becomes_a_chargeback(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDisputeInquiry")
    dispute_id = dispute_of(stripe_sandbox, pi)["id"]

    stripe.Dispute.modify(dispute_id, stripe_account=seller["id"],
                          evidence={"uncategorized_text": "losing_evidence"})

    dispute = stripe.Dispute.retrieve(dispute_id, stripe_account=seller["id"])
    assert dispute.status == "needs_response"
    assert dispute.payment_method_details.card.case_type == "chargeback"
    assert stripe_sandbox.events("charge.dispute.funds_withdrawn", account=seller["id"])


def test_accepting_a_dispute_closes_it_lost(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDispute")
    dispute_id = dispute_of(stripe_sandbox, pi)["id"]

    assert stripe.Dispute.close(dispute_id, stripe_account=seller["id"]).status == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Dispute.modify(dispute_id, stripe_account=seller["id"],
                              evidence={"uncategorized_text": "winning_evidence"})


def test_an_inquiry_can_be_prevented_but_a_chargeback_cannot(stripe_sandbox, seller):
    inquiry = dispute_of(stripe_sandbox, pay(seller["id"], payment_method="pm_card_createDisputeInquiry"))
    chargeback = dispute_of(stripe_sandbox, pay(seller["id"], payment_method="pm_card_createDispute"))

    assert stripe_sandbox.resolve_dispute(inquiry["id"], "prevented")["status"] == "prevented"
    response = stripe_sandbox.request("POST", f"/_sandbox/disputes/{chargeback['id']}/resolve",
                                      {"outcome": "prevented"})
    assert response.status == 400


def test_evidence_must_be_text_and_known_fields(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDispute")
    dispute_id = dispute_of(stripe_sandbox, pi)["id"]
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Dispute.modify(dispute_id, stripe_account=seller["id"], evidence={"made_up": "x"})


def test_an_unanswered_chargeback_is_lost_at_its_due_date(stripe_sandbox, seller):
    dispute_id = dispute_of(stripe_sandbox, pay(seller["id"], payment_method="pm_card_createDispute"))["id"]

    stripe_sandbox.advance_time(6 * 86400)
    assert stripe.Dispute.retrieve(dispute_id, stripe_account=seller["id"]).status == "needs_response"
    stripe_sandbox.advance_time(2 * 86400)

    assert stripe.Dispute.retrieve(dispute_id, stripe_account=seller["id"]).status == "lost"
    assert stripe_sandbox.events("charge.dispute.closed", account=seller["id"])


def test_an_unanswered_inquiry_becomes_a_chargeback_and_an_answered_one_waits(stripe_sandbox, seller):
    unanswered = dispute_of(stripe_sandbox, pay(seller["id"], payment_method="pm_card_createDisputeInquiry"))
    answered = dispute_of(stripe_sandbox, pay(seller["id"], payment_method="pm_card_createDisputeInquiry"))
    stripe.Dispute.modify(answered["id"], stripe_account=seller["id"],
                          evidence={"product_description": "A stub"})

    stripe_sandbox.advance_time(8 * 86400)

    escalated = stripe.Dispute.retrieve(unanswered["id"], stripe_account=seller["id"])
    assert escalated.status == "needs_response" and escalated.evidence_details.due_by > stripe_sandbox.now()
    waiting = stripe.Dispute.retrieve(answered["id"], stripe_account=seller["id"])
    assert waiting.status == "warning_under_review"

