"""Our idempotency keys under Stripe's rules, reproduced by the sandbox (docs/sandbox.md):
a key's first answer is kept 24 hours, a 500 included, so a PaymentIntent key must move on after
a 5xx and must not repeat after the database ids restart."""

import pytest
import stripe
from djstripe.models import IdempotencyKey

from accounts.tests.factories import UserFactory
from core.errors import PaymentProviderError
from marketplace.tests.factories import ListingFactory
from payments import stripe_api
from payments.idempotency import PREFIX_ACTION, idempotency_prefix, order_idempotency_key
from payments.tests.factories import OrderFactory
from payments.tests.webhook_support import sandbox_seller_onboarded

pytestmark = pytest.mark.django_db


def new_order(stripe_sandbox):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    return OrderFactory(listing=ListingFactory(seller=seller), buyer=UserFactory(), payment_intent_id="")


def test_a_retry_after_stripe_answered_500_gets_a_new_key_and_a_payment_intent(stripe_sandbox):
    order = new_order(stripe_sandbox)
    stripe_sandbox.fail_next("/v1/payment_intents", status=500, method="POST")
    with pytest.raises(PaymentProviderError):
        stripe_api.payment_intent_create(order=order)

    intent = stripe_api.payment_intent_create(order=order)  # the buyer trying again

    assert intent.status == "requires_payment_method"
    assert order_idempotency_key(order=order, operation="payment_intent-create").endswith("-attempt-2")


def test_without_the_attempt_number_the_retry_would_get_the_stored_500(stripe_sandbox):
    """The trap the attempt number avoids: Stripe (and the sandbox) keeps the 500 under the key."""
    order = new_order(stripe_sandbox)
    key = order_idempotency_key(order=order, operation="payment_intent-create")
    stripe_sandbox.fail_next("/v1/payment_intents", status=500, method="POST")
    with pytest.raises(PaymentProviderError):
        stripe_api.payment_intent_create(order=order)

    stored = stripe_sandbox.store.idempotency[f"{order.stripe_account_id} {key}"]
    assert stored["status"] == 500
    assert order_idempotency_key(order=order, operation="payment_intent-create") != key


def test_a_timeout_keeps_the_key_so_the_retry_returns_what_stripe_did(stripe_sandbox):
    order = new_order(stripe_sandbox)
    stripe_sandbox.fail_next("/v1/payment_intents", exception="timeout", times=3, method="POST",
                             after_processing=True)
    with pytest.raises(PaymentProviderError):
        stripe_api.payment_intent_create(order=order)

    intent = stripe_api.payment_intent_create(order=order)

    assert len(stripe.PaymentIntent.list(stripe_account=order.stripe_account_id).data) == 1
    assert intent.metadata["order_id"] == str(order.pk)


def test_keys_do_not_repeat_after_the_database_is_reset(stripe_sandbox):
    order = new_order(stripe_sandbox)
    before = order_idempotency_key(order=order, operation="payment_intent-create")

    IdempotencyKey.objects.filter(action=PREFIX_ACTION).delete()  # what a fresh database lacks
    after = order_idempotency_key(order=order, operation="payment_intent-create")

    assert before != after
    assert after.endswith(f"-order-{order.pk}-payment_intent-create")


def test_the_prefix_is_stored_once_and_a_setting_overrides_it(settings):
    first, second = idempotency_prefix(), idempotency_prefix()
    assert first == second
    assert IdempotencyKey.objects.filter(action=PREFIX_ACTION).count() == 1

    settings.STRIPE_IDEMPOTENCY_PREFIX = "shop-eu-1"
    assert idempotency_prefix() == "shop-eu-1"
