import pytest
from django.db import IntegrityError

from marketplace.models import Listing
from marketplace.tests.factories import ListingFactory, StubFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("price", [50, 99_999_999])
def test_listing_price_at_stripe_limits_is_accepted(price):
    listing = ListingFactory(price_cents=price)
    assert Listing.objects.get(pk=listing.pk).price_cents == price


@pytest.mark.parametrize("price", [49, 100_000_000])
def test_listing_price_outside_stripe_limits_is_refused_by_the_database(price):
    with pytest.raises(IntegrityError):
        ListingFactory(price_cents=price)


def test_listing_currency_other_than_usd_is_refused_by_the_database():
    listing = ListingFactory()
    with pytest.raises(IntegrityError):
        Listing.objects.filter(pk=listing.pk).update(currency="eur")


def test_half_a_reservation_is_refused_by_the_database():
    listing = ListingFactory()
    with pytest.raises(IntegrityError):
        Listing.objects.filter(pk=listing.pk).update(reserved_by=listing.seller)


def test_stub_has_a_readable_name():
    stub = StubFactory(event_name="Live Aid", venue="Wembley Stadium")
    assert "Live Aid" in str(stub) and "Wembley" in str(stub)
