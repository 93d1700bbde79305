"""The cast of marketplace's tests: a buyer, an active listing, and the moment the rules are
asked at."""

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def listing():
    return ListingFactory()
