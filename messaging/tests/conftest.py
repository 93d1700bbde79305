"""The cast of the messages tests: a seller with a listing on sale, a buyer, a paid order between
another listing of the seller's and the buyer, and a stranger. Factory rows: no Stripe call is
made by messages."""

import pytest

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.tests.factories import ListingFactory
from payments.models import OrderStatus
from payments.tests.factories import OrderFactory


@pytest.fixture
def seller():
    return SellerFactory(email="seller@example.com")


@pytest.fixture
def buyer():
    return UserFactory(email="buyer@example.com")


@pytest.fixture
def stranger():
    return UserFactory(email="stranger@example.com")


@pytest.fixture
def listing(seller):
    return ListingFactory(seller=seller, price_cents=5000)


@pytest.fixture
def order(seller, buyer):
    return OrderFactory(buyer=buyer, listing__seller=seller, status=OrderStatus.PAID)
