"""The cast of marketplace's tests: a buyer, an active listing, and the moment the rules are
asked at; the S3 bucket on moto's server for the photo storage tests (testing/s3.py)."""

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from testing.s3 import s3_media, s3_server  # noqa: F401 (fixtures, for test_photos_s3.py)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def buyer():
    return UserFactory()


@pytest.fixture
def listing():
    return ListingFactory()
