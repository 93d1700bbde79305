"""The cast of payments' tests: a seller onboarded in the Stripe sandbox, one of their listings, a
buyer. The webhook fixtures and a paid order several apps' tests share are in the root conftest;
opening a checkout through the route is payments/tests/checkout_support.py."""

import pytest

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from payments.tests.factories import sandbox_seller_onboarded


@pytest.fixture
def seller(stripe_sandbox):
    """A seller whose Express account exists, onboarded, in the sandbox: they can take orders."""
    return sandbox_seller_onboarded(stripe_sandbox)


@pytest.fixture
def listing(seller):
    return ListingFactory(seller=seller, price_cents=5000)


@pytest.fixture
def buyer():
    return UserFactory(email="buyer@example.com")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs the on_commit callbacks (the emails) as the test's transaction
    would have committed them."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
