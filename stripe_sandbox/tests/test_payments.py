import pytest
import stripe

from .conftest import pay


def test_payment_intent_goes_from_created_to_succeeded_with_charge_fee_and_events(
        stripe_sandbox, seller):
    pi = stripe.PaymentIntent.create(
        amount=5000, currency="usd", application_fee_amount=500, payment_method_types=["card"],
        metadata={"order_id": "42"}, description="Order 42", receipt_email="buyer@example.com",
        stripe_account=seller["id"])
    assert pi.id.startswith("pi_") and pi.object == "payment_intent"
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(pi.id + "_secret_")
    assert pi.livemode is False
    pi = stripe.PaymentIntent.confirm(pi.id, payment_method="pm_card_visa",
                                      stripe_account=seller["id"])
    assert pi.status == "succeeded"
    assert pi.amount_received == 5000
    assert pi.payment_method.startswith("pm_")
    charge = stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"],
                                    expand=["balance_transaction"])
    assert charge.id.startswith("ch_")
    assert (charge.amount, charge.application_fee_amount, charge.paid) == (5000, 500, True)
    assert charge.payment_method_details.card.brand == "visa"
    assert charge.payment_method_details.card.last4 == "4242"
    assert charge.outcome.type == "authorized"
    assert charge.metadata["order_id"] == "42"
    txn = charge.balance_transaction
    assert txn.id.startswith("txn_")
    assert (txn.amount, txn.fee, txn.net, txn.status) == (5000, 175 + 500, 4325, "pending")
    fee = stripe.ApplicationFee.retrieve(charge.application_fee)
    assert fee.id.startswith("fee_")
    assert (fee.account, fee.charge, fee.amount, fee.amount_refunded) == (
        seller["id"], charge.id, 500, 0)
    assert fee.refunds.data == []
    connect_types = [e["type"] for e in stripe_sandbox.events(account=seller["id"])]
    assert {"payment_intent.created", "charge.succeeded", "payment_intent.succeeded"} <= set(
        connect_types)
    platform = stripe_sandbox.events("application_fee.created", account="platform")
    assert len(platform) == 1 and "account" not in platform[0]
    succeeded = stripe_sandbox.events("payment_intent.succeeded")[0]
    assert succeeded["account"] == seller["id"]
    assert succeeded["data"]["object"]["id"] == pi.id


def test_confirm_param_and_card_details_by_number(stripe_sandbox, seller):
    pi = stripe.PaymentIntent.create(amount=1000, currency="usd", stripe_account=seller["id"],
                                     automatic_payment_methods={"enabled": True})
    pi = stripe.PaymentIntent.confirm(
        pi.id, stripe_account=seller["id"], return_url="https://shop.test/done",
        payment_method_data={"type": "card", "card": {
            "number": "5555555555554444", "exp_month": 12, "exp_year": 2040, "cvc": "123"}})
    assert pi.status == "succeeded"
    charge = stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"])
    assert charge.payment_method_details.card.brand == "mastercard"
    pm = stripe.PaymentMethod.retrieve(pi.payment_method, stripe_account=seller["id"])
    assert pm.card.last4 == "4444"


def test_expand_works_on_latest_charge_and_its_balance_transaction(stripe_sandbox, seller):
    pi = pay(seller["id"])
    expanded = stripe.PaymentIntent.retrieve(
        pi.id, stripe_account=seller["id"],
        expand=["latest_charge.balance_transaction", "payment_method"])
    assert expanded.latest_charge.object == "charge"
    assert expanded.latest_charge.balance_transaction.object == "balance_transaction"
    assert expanded.payment_method.object == "payment_method"
    listed = stripe.PaymentIntent.list(stripe_account=seller["id"], expand=["data.latest_charge"])
    assert listed.data[0].latest_charge.object == "charge"


def test_declined_card_raises_card_error_and_records_the_failure(stripe_sandbox, seller):
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"])
    with pytest.raises(stripe.CardError) as caught:
        stripe.PaymentIntent.confirm(pi.id, payment_method="pm_card_chargeDeclined",
                                     stripe_account=seller["id"])
    assert caught.value.http_status == 402
    assert caught.value.code == "card_declined"
    assert caught.value.error.decline_code == "generic_decline"
    pi = stripe.PaymentIntent.retrieve(pi.id, stripe_account=seller["id"])
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "card_declined"
    assert pi.last_payment_error.decline_code == "generic_decline"
    assert stripe_sandbox.events("payment_intent.payment_failed", account=seller["id"])
    # A new card can still pay.
    assert stripe.PaymentIntent.confirm(pi.id, payment_method="pm_card_visa",
                                        stripe_account=seller["id"]).status == "succeeded"


def test_declined_card_number_through_payment_method_data(stripe_sandbox, seller):
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"])
    with pytest.raises(stripe.CardError) as caught:
        stripe.PaymentIntent.confirm(pi.id, stripe_account=seller["id"], payment_method_data={
            "type": "card", "card": {"number": "4000000000000002", "exp_month": 1,
                                     "exp_year": 2045, "cvc": "999"}})
    assert caught.value.error.decline_code == "generic_decline"


def test_three_d_secure_card_requires_action_then_succeeds_on_the_page(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_authenticationRequired",
             return_url="https://shop.test/return?order=1")
    assert pi.status == "requires_action"
    assert pi.next_action.type == "redirect_to_url"
    assert pi.next_action.redirect_to_url.return_url == "https://shop.test/return?order=1"
    url = pi.next_action.redirect_to_url.url
    page = stripe_sandbox.request("GET", url)
    assert page.status == 200 and "Complete authentication" in page.text
    done = stripe_sandbox.request("POST", url, {"action": "complete"})
    assert done.status == 302
    location = done.header("Location")
    assert location.startswith("https://shop.test/return?order=1&payment_intent=" + pi.id)
    assert "payment_intent_client_secret=" + pi.client_secret in location
    assert location.endswith("redirect_status=succeeded")
    pi = stripe.PaymentIntent.retrieve(pi.id, stripe_account=seller["id"],
                                       expand=["latest_charge"])
    assert pi.status == "succeeded"
    assert pi.latest_charge.payment_method_details.card.three_d_secure.result == "authenticated"
    assert stripe_sandbox.events("payment_intent.requires_action", account=seller["id"])


def test_three_d_secure_failure_returns_to_requires_payment_method(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_authenticationRequired",
             return_url="https://shop.test/return")
    done = stripe_sandbox.request("POST", pi.next_action.redirect_to_url.url, {"action": "fail"})
    assert done.header("Location").endswith("redirect_status=failed")
    pi = stripe.PaymentIntent.retrieve(pi.id, stripe_account=seller["id"])
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "payment_intent_authentication_failure"
    assert stripe_sandbox.events("payment_intent.payment_failed", account=seller["id"])


def test_three_d_secure_card_number_and_helper(stripe_sandbox, seller):
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"])
    pi = stripe.PaymentIntent.confirm(pi.id, stripe_account=seller["id"], payment_method_data={
        "type": "card", "card": {"number": "4000002500003155", "exp_month": 1,
                                 "exp_year": 2045, "cvc": "123"}})
    assert pi.status == "requires_action"
    assert stripe_sandbox.complete_3ds(pi.id)["status"] == "succeeded"


def test_dispute_card_succeeds_then_opens_a_dispute(stripe_sandbox, seller):
    pi = pay(seller["id"], payment_method="pm_card_createDisputeProductDescription")
    assert pi.status == "succeeded"
    events = stripe_sandbox.events("charge.dispute.created", account=seller["id"])
    assert len(events) == 1
    dispute = events[0]["data"]["object"]
    assert dispute["status"] == "needs_response"
    assert dispute["charge"] == pi.latest_charge
    assert stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"]).disputed is True
    assert pay(seller["id"], payment_method="pm_card_disputed").status == "succeeded"


def test_update_and_cancel(stripe_sandbox, seller):
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", application_fee_amount=500,
                                     stripe_account=seller["id"])
    pi = stripe.PaymentIntent.modify(pi.id, amount=6000, application_fee_amount=600,
                                     metadata={"order_id": "9"}, stripe_account=seller["id"])
    assert (pi.amount, pi.application_fee_amount, pi.metadata["order_id"]) == (6000, 600, "9")
    pi = stripe.PaymentIntent.cancel(pi.id, cancellation_reason="abandoned",
                                     stripe_account=seller["id"])
    assert pi.status == "canceled" and pi.canceled_at and pi.cancellation_reason == "abandoned"
    assert stripe_sandbox.events("payment_intent.canceled", account=seller["id"])
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.PaymentIntent.confirm(pi.id, payment_method="pm_card_visa",
                                     stripe_account=seller["id"])
    assert caught.value.code == "payment_intent_unexpected_state"


def test_cannot_cancel_a_succeeded_payment(stripe_sandbox, seller):
    pi = pay(seller["id"])
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.PaymentIntent.cancel(pi.id, stripe_account=seller["id"])
    assert caught.value.code == "payment_intent_unexpected_state"


@pytest.mark.parametrize(("params", "param"), [
    ({"amount": 49}, "amount"),
    ({"currency": "eur"}, "currency"),
    ({"application_fee_amount": 5001}, "application_fee_amount"),
])
def test_payment_intent_validation_errors_name_the_param(stripe_sandbox, seller, params, param):
    values = {"amount": 5000, "currency": "usd", "application_fee_amount": 500, **params}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.PaymentIntent.create(stripe_account=seller["id"], **values)
    assert caught.value.http_status == 400
    assert caught.value.param == param


def test_application_fee_needs_a_connected_account(stripe_sandbox):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.PaymentIntent.create(amount=5000, currency="usd", application_fee_amount=100)
    assert caught.value.param == "application_fee_amount"


def test_account_without_charges_enabled_cannot_take_payments(stripe_sandbox):
    account = stripe_sandbox.create_account(onboarded=False)
    with pytest.raises(stripe.InvalidRequestError):
        stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=account["id"])


def test_objects_are_scoped_to_their_account(stripe_sandbox, seller):
    other = stripe_sandbox.create_account(email="other@example.com")
    pi = pay(seller["id"])
    for account in (None, other["id"]):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            stripe.PaymentIntent.retrieve(pi.id, stripe_account=account)
        assert caught.value.http_status == 404
        with pytest.raises(stripe.InvalidRequestError):
            stripe.Charge.retrieve(pi.latest_charge, stripe_account=account)
    assert stripe.PaymentIntent.list(stripe_account=other["id"]).data == []
    assert [p.id for p in stripe.PaymentIntent.list(stripe_account=seller["id"])] == [pi.id]
    # The application fee lives on the platform.
    fee_id = stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"]).application_fee
    with pytest.raises(stripe.InvalidRequestError):
        stripe.ApplicationFee.retrieve(fee_id, stripe_account=seller["id"])


def test_unknown_stripe_account_is_refused(stripe_sandbox):
    with pytest.raises(stripe.PermissionError):
        stripe.PaymentIntent.list(stripe_account="acct_doesnotexist")


def test_balance_of_seller_and_platform(stripe_sandbox, seller):
    pay(seller["id"], amount=5000, fee=500)
    pay(seller["id"], amount=2000, fee=200)
    balance = stripe.Balance.retrieve(stripe_account=seller["id"])
    # (5000 - 175 - 500) + (2000 - 88 - 200)
    assert balance.pending[0].amount == 4325 + 1712
    assert balance.available[0].amount == 0
    platform = stripe.Balance.retrieve()
    assert platform.pending[0].amount == 700
    stripe_sandbox.advance_time(2 * 86400)
    balance = stripe.Balance.retrieve(stripe_account=seller["id"])
    assert (balance.available[0].amount, balance.pending[0].amount) == (6037, 0)
    assert stripe.Balance.retrieve().available[0].amount == 700


def test_payment_methods_from_test_ids(stripe_sandbox, seller):
    pm = stripe.PaymentMethod.retrieve("pm_card_visa", stripe_account=seller["id"])
    assert pm.object == "payment_method" and pm.type == "card" and pm.card.last4 == "4242"
    with pytest.raises(stripe.InvalidRequestError):
        stripe.PaymentMethod.retrieve("pm_unknown", stripe_account=seller["id"])


def test_balance_transactions_events_and_lists(stripe_sandbox, seller):
    pi = pay(seller["id"])
    charge = stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"])
    txn = stripe.BalanceTransaction.retrieve(charge.balance_transaction,
                                             stripe_account=seller["id"])
    assert txn.source == charge.id and txn.type == "charge"
    events = stripe.Event.list(stripe_account=seller["id"], type="payment_intent.succeeded")
    assert [e.data.object.id for e in events] == [pi.id]
    event = stripe.Event.retrieve(events.data[0].id, stripe_account=seller["id"])
    assert event.account == seller["id"]
    page = stripe.PaymentIntent.list(stripe_account=seller["id"], limit=1)
    assert page.has_more is False and len(page.data) == 1
    pay(seller["id"])
    first = stripe.PaymentIntent.list(stripe_account=seller["id"], limit=1)
    assert first.has_more is True
    second = stripe.PaymentIntent.list(stripe_account=seller["id"], limit=1,
                                       starting_after=first.data[0].id)
    assert second.data[0].id == pi.id
    all_ids = [p.id for p in stripe.PaymentIntent.list(
        stripe_account=seller["id"], limit=1).auto_paging_iter()]
    assert len(all_ids) == 2
    assert stripe.Charge.list(stripe_account=seller["id"], payment_intent=pi.id).data[0].id == \
        charge.id


def test_stripe_client_payment_flow(stripe_sandbox, seller):
    client = stripe_sandbox.stripe_client()
    pi = client.v1.payment_intents.create(
        params={"amount": 1500, "currency": "usd", "application_fee_amount": 150,
                "payment_method_types": ["card"]},
        options={"stripe_account": seller["id"]})
    pi = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"},
                                           options={"stripe_account": seller["id"]})
    assert pi.status == "succeeded"
    refund = client.v1.refunds.create(params={"payment_intent": pi.id},
                                      options={"stripe_account": seller["id"]})
    assert refund.amount == 1500


def test_lists_filter_on_created(stripe_sandbox, seller):
    first = pay(seller["id"])
    stripe_sandbox.advance_time(3600)
    second = pay(seller["id"])
    newer = stripe.PaymentIntent.list(stripe_account=seller["id"],
                                      created={"gt": first.created})
    assert [p.id for p in newer] == [second.id]
    older = stripe.PaymentIntent.list(stripe_account=seller["id"],
                                      created={"lte": first.created})
    assert [p.id for p in older] == [first.id]
    events = stripe.Event.list(stripe_account=seller["id"], created={"gte": second.created},
                               type="payment_intent.succeeded")
    assert [e.data.object.id for e in events] == [second.id]
