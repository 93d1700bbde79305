"""The sandbox's own tests: no Django, no database.

The project's root conftest adds Django-only autouse fixtures; they are replaced here by
no-ops so these tests also run with ``-p no:django``. The sandbox fixtures are imported
directly so the tests work whether or not the root conftest registered the plugin.
"""

import pytest

from stripe_sandbox.pytest_plugin import stripe_sandbox, stripe_sandbox_server  # noqa: F401


@pytest.fixture(autouse=True)
def _test_settings():
    yield


@pytest.fixture(autouse=True)
def _clear_cache():
    yield


@pytest.fixture
def seller(stripe_sandbox):
    """An onboarded Express account (charges and payouts enabled)."""
    return stripe_sandbox.create_account(email="seller@example.com")


def pay(account_id, amount=5000, fee=500, payment_method="pm_card_visa", **params):
    """A confirmed PaymentIntent on ``account_id`` through the SDK's global style."""
    import stripe

    return stripe.PaymentIntent.create(
        amount=amount, currency="usd", application_fee_amount=fee,
        payment_method_types=["card"], payment_method=payment_method, confirm=True,
        stripe_account=account_id, **params)
