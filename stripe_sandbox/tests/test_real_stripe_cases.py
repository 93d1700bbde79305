"""Behaviours of real Stripe the app must survive, reproduced by the sandbox, each through the
real stripe SDK. docs/sandbox.md ("Real Stripe's edges") cites the Stripe page each one follows."""

import pytest
import stripe

from .conftest import pay

EXPRESS_DIRECT_CHARGES = {
    "fees": {"payer": "application"},
    "losses": {"payments": "application"},
    "stripe_dashboard": {"type": "express"},
    "requirement_collection": "stripe",
}


# -- account.application.deauthorized --------------------------------------------------------

def test_deleting_an_account_sends_deauthorized_on_the_connect_side_and_refuses_its_reads(
        stripe_sandbox, seller):
    stripe.Account.delete(seller["id"])

    [event] = stripe_sandbox.events(type="account.application.deauthorized")
    assert event["account"] == seller["id"]
    assert event["data"]["object"]["object"] == "application"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.Account.retrieve(seller["id"])
    assert missing.value.code == "resource_missing"
    with pytest.raises(stripe.PermissionError) as refused:
        stripe.Balance.retrieve(stripe_account=seller["id"])
    assert refused.value.json_body["error"]["code"] == "account_invalid"


def test_a_disconnected_account_sends_deauthorized_once_and_cannot_be_charged(stripe_sandbox, seller):
    stripe_sandbox.disconnect_account(seller["id"])

    assert len(stripe_sandbox.events(type="account.application.deauthorized",
                                     account=seller["id"])) == 1
    with pytest.raises(stripe.PermissionError):
        pay(seller["id"])


# -- controller properties and negative balances ----------------------------------------------

def test_an_account_made_with_express_controller_properties_reports_platform_liability(stripe_sandbox):
    account = stripe.Account.create(country="US", controller=EXPRESS_DIRECT_CHARGES,
                                    capabilities={"card_payments": {"requested": True},
                                                  "transfers": {"requested": True}})

    assert account.type == "express"
    assert account.controller.losses.payments == "application"
    assert account.controller.fees.payer == "application"
    assert account.controller.stripe_dashboard.type == "express"
    assert account.controller.requirement_collection == "stripe"


def test_express_dashboard_with_stripe_liable_is_refused_at_the_pinned_api_version(stripe_sandbox):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.Account.create(country="US", controller={**EXPRESS_DIRECT_CHARGES,
                                                        "losses": {"payments": "stripe"}})
    assert refused.value.param == "controller"


def _stripe_fees(**scope):
    return [t for t in stripe.BalanceTransaction.list(limit=100, **scope).data
            if t.type == "stripe_fee" or any(d.type == "stripe_fee" for d in t.fee_details)]


def test_with_the_platform_as_fee_payer_stripe_fees_land_on_the_platform_balance(stripe_sandbox):
    account = stripe_sandbox.create_account(controller=EXPRESS_DIRECT_CHARGES)
    pay(account["id"], amount=5000, fee=500, payment_method="pm_card_disputed")

    [charge_txn] = stripe.BalanceTransaction.list(stripe_account=account["id"], type="charge").data
    assert charge_txn.fee == 500  # only the application fee
    assert _stripe_fees(stripe_account=account["id"]) == []
    platform = sorted(t.amount for t in _stripe_fees())
    assert platform == [-1500, -175]  # the dispute fee and 2.9 % + 30 c of $50


def test_a_legacy_express_account_pays_stripe_fees_itself(stripe_sandbox, seller):
    assert stripe.Account.retrieve(seller["id"]).controller.fees.payer == "application_express"
    pay(seller["id"], amount=5000, fee=500, payment_method="pm_card_disputed")

    [charge_txn] = stripe.BalanceTransaction.list(stripe_account=seller["id"], type="charge").data
    assert charge_txn.fee == 500 + 175
    assert _stripe_fees() == []
    [dispute_txn] = stripe.BalanceTransaction.list(stripe_account=seller["id"], type="adjustment").data
    assert dispute_txn.fee == 1500


def test_a_dispute_takes_the_balance_negative_and_no_balance_available_says_so(stripe_sandbox, seller):
    # Stripe takes the disputed amount and its fee at once, whatever the balance holds; its
    # event reference says balance.available "is not fired for negative transactions".
    pay(seller["id"], amount=5000, fee=500, payment_method="pm_card_disputed")

    balance = stripe.Balance.retrieve(stripe_account=seller["id"])
    assert balance.available[0].amount < 0
    assert balance.available[0].amount + balance.pending[0].amount < 0
    assert stripe_sandbox.events(type="balance.available", account=seller["id"]) == []
    assert stripe_sandbox.events(type="charge.dispute.funds_withdrawn", account=seller["id"])


def test_balance_available_is_sent_when_pending_funds_become_available(stripe_sandbox, seller):
    pay(seller["id"], amount=5000, fee=500)
    assert stripe_sandbox.events(type="balance.available", account=seller["id"]) == []

    stripe_sandbox.advance_time(7 * 86400)
    stripe.Balance.retrieve(stripe_account=seller["id"])

    [reported] = stripe_sandbox.events(type="balance.available", account=seller["id"])
    assert reported["data"]["object"]["available"][0]["amount"] > 0


# -- idempotency -------------------------------------------------------------------------------

def test_the_first_answer_of_a_key_is_kept_24_hours_then_the_key_is_free(stripe_sandbox, seller):
    first = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"],
                                        idempotency_key="k-1")
    again = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"],
                                        idempotency_key="k-1")
    assert again.id == first.id

    stripe_sandbox.advance_time(24 * 3600)
    later = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"],
                                        idempotency_key="k-1")
    assert later.id != first.id


def test_the_same_key_with_another_body_is_an_idempotency_error(stripe_sandbox, seller):
    stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"],
                                idempotency_key="k-2")
    with pytest.raises(stripe.IdempotencyError):
        stripe.PaymentIntent.create(amount=6000, currency="usd", stripe_account=seller["id"],
                                    idempotency_key="k-2")


def test_a_validation_error_is_not_kept_so_the_fixed_request_can_use_the_key(stripe_sandbox, seller):
    with pytest.raises(stripe.InvalidRequestError):
        stripe.PaymentIntent.create(amount=10, currency="usd", stripe_account=seller["id"],
                                    idempotency_key="k-3")
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"],
                                     idempotency_key="k-3")
    assert pi.amount == 5000


def test_a_500_is_kept_under_its_key_and_replayed_to_the_sdks_retries(stripe_sandbox, seller):
    stripe_sandbox.fail_next("/v1/payment_intents", status=500, method="POST")
    for _ in range(2):
        with pytest.raises(stripe.APIError):
            stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"],
                                        idempotency_key="k-4")
    assert stripe.PaymentIntent.list(stripe_account=seller["id"]).data == []


def test_forgotten_objects_answer_resource_missing(stripe_sandbox, seller):
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"])
    stripe_sandbox.forget(pi.id)

    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.PaymentIntent.retrieve(pi.id, stripe_account=seller["id"])
    assert missing.value.code == "resource_missing"
