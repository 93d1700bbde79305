"""The cast of the offers tests: a seller whose $50.00 listing (plus $4.00 shipping) takes offers,
two buyers and a stranger. Factory rows: no Stripe call is made until a test checks out."""

import pytest

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.tests.factories import ListingFactory


@pytest.fixture
def seller():
    return SellerFactory(email="seller@example.com")


@pytest.fixture
def buyer():
    return UserFactory(email="buyer@example.com")


@pytest.fixture
def buyer2():
    return UserFactory(email="buyer2@example.com")


@pytest.fixture
def stranger():
    return UserFactory(email="stranger@example.com")


@pytest.fixture
def listing(seller):
    return ListingFactory(seller=seller, price_cents=5000, shipping_cents=400, offers_enabled=True)
