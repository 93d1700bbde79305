"""The cast of the offers tests: a seller whose $50.00 listing (plus $4.00 shipping) takes offers,
two buyers and a stranger. Factory rows: no Stripe call is made until a test checks out."""

import pytest
from django.test import Client

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


@pytest.fixture
def login():
    def client_for(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return client_for


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs the on_commit callbacks (the emails) as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
