"""The cast of payments' tests: a seller onboarded in the Stripe sandbox, one of their listings, a
buyer; the sold-price history's listing on sale and the sales like it. The webhook fixtures and a
paid order several apps' tests share are in the root conftest; opening a checkout through the
route is payments/tests/checkout_support.py."""

import datetime

import pytest

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from payments.tests.factories import sandbox_seller_onboarded
from payments.tests.sale_support import sale


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
def on_sale():
    """A Prince stub of 1985 on sale: the sold-price history's listing."""
    return ListingFactory(
        price_cents=8800,
        stub__performer="Prince",
        stub__event_name="Purple Rain Tour",
        stub__event_date=datetime.date(1985, 3, 30),
    )


@pytest.fixture
def sold_like_it():
    """Three completed sales of Prince stubs of 1985 ($40, $60, $125, on 1-3 October 2026)."""
    return [
        sale(price_cents=cents, paid_on=datetime.date(2026, 10, day), shipping_name=f"Buyer Name{day}")
        for cents, day in ((4000, 1), (6000, 2), (12500, 3))
    ]
