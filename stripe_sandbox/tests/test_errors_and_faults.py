import pytest
import stripe

from stripe_sandbox.forms import parse_form

from .conftest import pay


def test_bad_api_key_is_an_authentication_error(stripe_sandbox):
    with pytest.raises(stripe.AuthenticationError) as caught:
        stripe.Account.retrieve(api_key="sk_live_nope")
    assert caught.value.http_status == 401
    assert "Invalid API Key provided" in caught.value.user_message
    assert caught.value.json_body["error"]["type"] == "invalid_request_error"


def test_missing_api_key(stripe_sandbox):
    response = stripe_sandbox.request("GET", "/v1/balance")
    assert response.status == 401


def test_publishable_key_is_only_for_stripe_js_calls(stripe_sandbox, seller):
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"])
    with pytest.raises(stripe.AuthenticationError):
        stripe.PaymentIntent.create(amount=5000, currency="usd", api_key="pk_test_abc",
                                    stripe_account=seller["id"])
    headers = {"Authorization": "Bearer pk_test_abc", "Stripe-Account": seller["id"]}
    wrong = stripe_sandbox.request("GET", f"/v1/payment_intents/{pi.id}?client_secret=nope",
                                   headers=headers)
    assert wrong.status == 400
    right = stripe_sandbox.request(
        "GET", f"/v1/payment_intents/{pi.id}?client_secret={pi.client_secret}", headers=headers)
    assert right.status == 200 and right.json()["id"] == pi.id
    confirmed = stripe_sandbox.request(
        "POST", f"/v1/payment_intents/{pi.id}/confirm", headers=headers,
        data={"client_secret": pi.client_secret, "payment_method": "pm_card_visa"})
    assert confirmed.json()["status"] == "succeeded"


def test_unknown_ids_are_404_resource_missing(stripe_sandbox):
    for call in (lambda: stripe.PaymentIntent.retrieve("pi_nope"),
                 lambda: stripe.Customer.retrieve("cus_nope"),
                 lambda: stripe.Charge.retrieve("ch_nope"),
                 lambda: stripe.BalanceTransaction.retrieve("txn_nope"),
                 lambda: stripe.Event.retrieve("evt_nope"),
                 lambda: stripe.Account.retrieve("acct_nope")):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call()
        assert caught.value.http_status == 404
        assert caught.value.code == "resource_missing"


def test_unmodeled_lists_are_empty_and_unknown_routes_are_404(stripe_sandbox):
    customers = stripe.Customer.list()
    assert customers.data == [] and customers.has_more is False
    assert stripe.Payout.list().data == []
    response = stripe_sandbox.request("GET", "/v1/not_a_thing",
                                      headers={"Authorization": "Bearer sk_test_x"})
    assert response.status == 404
    assert response.json()["error"]["message"].startswith("Unrecognized request URL")


def test_idempotency_replays_the_first_answer_and_refuses_other_params(stripe_sandbox, seller):
    first = stripe.PaymentIntent.create(amount=5000, currency="usd", idempotency_key="order-1",
                                        stripe_account=seller["id"])
    again = stripe.PaymentIntent.create(amount=5000, currency="usd", idempotency_key="order-1",
                                        stripe_account=seller["id"])
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(stripe.PaymentIntent.list(stripe_account=seller["id"]).data) == 1
    with pytest.raises(stripe.IdempotencyError):
        stripe.PaymentIntent.create(amount=6000, currency="usd", idempotency_key="order-1",
                                    stripe_account=seller["id"])
    # Keys are per account: the same key on another account is a new request.
    other = stripe_sandbox.create_account()
    elsewhere = stripe.PaymentIntent.create(amount=5000, currency="usd",
                                            idempotency_key="order-1", stripe_account=other["id"])
    assert elsewhere.id != first.id


def test_a_validation_error_is_not_remembered_by_the_idempotency_key(stripe_sandbox, seller):
    with pytest.raises(stripe.InvalidRequestError):
        stripe.PaymentIntent.create(amount=10, currency="usd", idempotency_key="k",
                                    stripe_account=seller["id"])
    # Nothing ran under the key, so other parameters are fine (not an idempotency_error).
    fixed = stripe.PaymentIntent.create(amount=5000, currency="usd", idempotency_key="k",
                                        stripe_account=seller["id"])
    assert fixed.amount == 5000


def test_fail_next_with_a_status_reaches_the_sdk_as_an_api_error(stripe_sandbox, seller):
    stripe_sandbox.fail_next("/v1/payment_intents", status=500, times=3)
    with pytest.raises(stripe.APIError) as caught:
        stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"])
    assert caught.value.http_status == 500
    assert stripe.PaymentIntent.list(stripe_account=seller["id"]).data == []


def test_one_injected_failure_on_a_read_is_retried_by_the_sdk(stripe_sandbox, seller):
    stripe_sandbox.fail_next("/v1/payment_intents", status=500, method="GET")
    assert stripe.PaymentIntent.list(stripe_account=seller["id"]).data == []


def test_a_500_on_a_write_is_what_its_idempotency_key_answers_from_then_on(stripe_sandbox, seller):
    """Stripe keeps the first answer of a key, a 500 too: the SDK's own retries (same key) and a
    later call with that key get the 500 back; a new key goes through."""
    stripe_sandbox.fail_next("/v1/payment_intents", status=500, method="POST")
    with pytest.raises(stripe.APIError):
        stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"],
                                    idempotency_key="order-1-pi")
    with pytest.raises(stripe.APIError) as replayed:
        stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"],
                                    idempotency_key="order-1-pi")
    assert replayed.value.headers.get("Idempotent-Replayed") == "true"
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"],
                                     idempotency_key="order-1-pi-attempt-2")
    assert pi.status == "requires_payment_method"


def test_fail_next_timeout_raises_api_connection_error(stripe_sandbox, seller):
    stripe_sandbox.fail_next("/v1/payment_intents", exception=TimeoutError, times=3, method="POST")
    with pytest.raises(stripe.APIConnectionError):
        stripe.PaymentIntent.create(amount=5000, currency="usd", stripe_account=seller["id"])
    # GETs were not affected, and the fault is used up.
    assert stripe.PaymentIntent.list(stripe_account=seller["id"]).data == []
    assert pay(seller["id"]).status == "succeeded"


def test_cors_preflight_and_headers(stripe_sandbox):
    response = stripe_sandbox.request("OPTIONS", "/v1/payment_intents/pi_x/confirm")
    assert response.status == 204
    assert response.header("Access-Control-Allow-Origin") == "*"
    assert "Stripe-Account" in response.header("Access-Control-Allow-Headers")
    assert "Authorization" in response.header("Access-Control-Allow-Headers")


@pytest.mark.parametrize(("encoded", "expected"), [
    ("a=1&b[c]=2&b[d][e]=3", {"a": "1", "b": {"c": "2", "d": {"e": "3"}}}),
    ("expand[]=x&expand[]=y", {"expand": ["x", "y"]}),
    ("expand[0]=x&expand[1]=y", {"expand": ["x", "y"]}),
    ("items[0][price]=p&items[1][price]=q", {"items": [{"price": "p"}, {"price": "q"}]}),
    ("metadata[order_id]=&x=", {"metadata": {"order_id": ""}, "x": ""}),
])
def test_form_decoding(encoded, expected):
    assert parse_form(encoded) == expected


def test_async_sdk_calls_work_in_process(stripe_sandbox, seller):
    import asyncio

    client = stripe_sandbox.stripe_client()

    async def pay_async():
        pi = await client.v1.payment_intents.create_async(
            params={"amount": 5000, "currency": "usd", "payment_method": "pm_card_visa",
                    "confirm": True}, options={"stripe_account": seller["id"]})
        return await client.v1.payment_intents.retrieve_async(
            pi.id, options={"stripe_account": seller["id"]})

    assert asyncio.run(pay_async()).status == "succeeded"


def test_a_lost_answer_is_recovered_by_the_sdk_retry_with_the_same_idempotency_key(
        stripe_sandbox, seller):
    stripe_sandbox.fail_next("/v1/payment_intents", exception="timeout", after_processing=True)
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", idempotency_key="order-5",
                                     stripe_account=seller["id"])
    assert pi.last_response.headers["Idempotent-Replayed"] == "true"
    assert [p.id for p in stripe.PaymentIntent.list(stripe_account=seller["id"])] == [pi.id]


def test_unknown_parameters_are_refused_like_stripe_does(stripe_sandbox, seller):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.PaymentIntent.create(amount=5000, currency="usd", applicaton_fee_amount=100,
                                    stripe_account=seller["id"])
    assert caught.value.param == "applicaton_fee_amount"
    assert "Received unknown parameter" in caught.value.user_message
    # Parameters Stripe knows are accepted even where the sandbox ignores them.
    pi = stripe.PaymentIntent.create(amount=5000, currency="usd", transfer_group="order-1",
                                     stripe_account=seller["id"])
    assert pi.amount == 5000
