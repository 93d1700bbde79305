"""How `stripe_call` reports Stripe's answers: a refusal is a 4xx with Stripe's own reason
(400 for a rejected parameter, 409 for what the state of things forbids); only Stripe failing
or not answering (5xx, timeouts, rate limits, our own key refused) is a 502."""

import pytest
import stripe

from core.errors import PaymentProviderError
from payments.stripe_api import CardDeclined, StripeRefused, stripe_call

pytestmark = pytest.mark.django_db


def raising(error):
    def method(**kwargs):
        raise error
    return method


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (stripe.InvalidRequestError("Refund amount ($50.00) is greater than unrefunded amount on "
                                    "charge ($5.00)", "amount", code="amount_too_large",
                                    http_status=400), 409),
        (stripe.InvalidRequestError("This charge is disputed.", None, code="charge_disputed",
                                    http_status=400), 409),
        (stripe.InvalidRequestError("Invalid integer: abc", "amount", code="parameter_invalid_integer",
                                    http_status=400), 400),
        (stripe.IdempotencyError("Keys for idempotent requests can only be used with the same "
                                 "parameters they were first used with.", http_status=400), 409),
        (stripe.PermissionError("The provided key does not have access to account acct_x.",
                                http_status=403), 409),
    ],
    ids=["amount_too_large", "charge_disputed", "parameter_invalid", "idempotency", "permission"],
)
def test_a_refusal_is_a_4xx_with_stripes_reason(error, status):
    with pytest.raises(StripeRefused) as refused:
        stripe_call("refund.create", raising(error))

    assert refused.value.status == status
    assert refused.value.message == error.user_message  # Stripe's words, not "did not answer"


@pytest.mark.parametrize(
    "error",
    [
        stripe.APIError("Internal error", http_status=500),
        stripe.APIConnectionError("Request timed out"),
        stripe.RateLimitError("Too many requests", http_status=429),
        stripe.AuthenticationError("Invalid API Key provided", http_status=401),
    ],
    ids=["5xx", "timeout", "rate_limited", "our_key_refused"],
)
def test_stripe_failing_or_not_answering_is_still_a_502(error):
    with pytest.raises(PaymentProviderError) as failed:
        stripe_call("refund.create", raising(error))

    assert failed.value.status == 502


def test_a_declined_card_is_a_402():
    error = stripe.CardError("Your card was declined.", None, code="card_declined", http_status=402)
    with pytest.raises(CardDeclined) as declined:
        stripe_call("payment_intent.confirm", raising(error))
    assert declined.value.status == 402
