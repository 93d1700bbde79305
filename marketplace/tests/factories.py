import datetime

import factory

from accounts.tests.factories import SellerFactory
from marketplace.models import Category, Condition, Listing, ListingStatus, Stub


class StubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stub

    event_name = factory.Faker("catch_phrase")
    performer = factory.Faker("name")
    venue = factory.Faker("company")
    city = factory.Faker("city")
    event_date = factory.Faker("date_between", start_date=datetime.date(1965, 1, 1), end_date="today")
    category = factory.Iterator([c for c, _ in Category.choices])
    condition = Condition.GOOD
    description = factory.Faker("sentence")


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    seller = factory.SubFactory(SellerFactory)
    stub = factory.SubFactory(StubFactory)
    price_cents = 5000
    status = ListingStatus.ACTIVE
