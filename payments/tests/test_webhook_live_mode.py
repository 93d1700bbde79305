"""A live deployment with a restricted live key (rk_live_, as Stripe recommends) applies live
events, through the live-mode sandbox, the real stripe SDK and the real webhook views."""

import pytest

from core.stripe_keys import stripe_key_livemode
from payments.models import AuditEvent, OrderStatus
from payments.tests.webhook_support import pay, sandbox_order

pytestmark = pytest.mark.django_db



@pytest.fixture
def stripe_sandbox(stripe_sandbox_live, settings):
    """Every helper of this module talks to the live-mode sandbox, with its restricted live key
    as the deployment's STRIPE_SECRET_KEY and the mode settings.py derives from it."""
    settings.STRIPE_SECRET_KEY = stripe_sandbox_live.api_key
    settings.STRIPE_LIVE_SECRET_KEY = settings.STRIPE_TEST_SECRET_KEY = stripe_sandbox_live.api_key
    settings.STRIPE_LIVE_MODE = stripe_key_livemode(stripe_sandbox_live.api_key)
    return stripe_sandbox_live


def test_a_restricted_live_key_is_live_mode():
    assert stripe_key_livemode("rk_live_" + "a" * 24) is True
    assert stripe_key_livemode("sk_live_" + "a" * 24) is True
    assert stripe_key_livemode("rk_test_" + "a" * 24) is False
    assert stripe_key_livemode("sk_test_" + "a" * 24) is False


def test_a_live_payment_marks_the_order_paid_with_a_restricted_live_key(stripe_sandbox, webhooks):
    order = sandbox_order(stripe_sandbox)
    pay(order)

    assert webhooks() == []

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    [succeeded] = stripe_sandbox.events(type="payment_intent.succeeded")
    assert succeeded["livemode"] is True
    assert not AuditEvent.objects.filter(action="webhook.not_applied").exists()
