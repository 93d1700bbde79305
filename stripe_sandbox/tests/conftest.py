"""The sandbox's own tests: no Django, no database.

The project's root conftest adds Django-only autouse fixtures; they are replaced here by
no-ops so these tests also run with ``-p no:django``. The sandbox fixtures are registered
here too, for runs where the root conftest did not (``--noconftest``, another rootdir).
"""

import pytest


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("stripe_sandbox.pytest_plugin"):
        config.pluginmanager.import_plugin("stripe_sandbox.pytest_plugin")


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
