import factory
import faker
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from accounts.models import StripeAccountStatus

DEFAULT_PASSWORD = "correct-horse-battery-staple"

# Faker draws a name weighted by how common it is, which walks its whole table of names (~1,000)
# on every draw: ~2 % of the suite's CPU went to it. The same tables drawn uniformly (Faker's
# use_weighting=False) make the same kind of test data. factory_boy keeps one Faker per locale;
# every factory module imports this one.
factory.Faker._FAKER_REGISTRY[factory.Faker._DEFAULT_LOCALE] = faker.Faker(
    factory.Faker._DEFAULT_LOCALE, use_weighting=False)


class SequenceUsername(str):
    """A username a factory's sequence made. The sequences only grow in a process, so no row
    holds it yet: the user is inserted without get_or_create's lookup and savepoint first
    (a SELECT that always missed, for nearly every user of the suite)."""


def sequence_username(prefix: str) -> factory.Sequence:
    return factory.Sequence(lambda n: SequenceUsername(f"{prefix}{n}"))


class UserFactory(factory.django.DjangoModelFactory):
    """A username given by the test is looked up first (get_or_create): a test may ask for the
    same user twice by name."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = sequence_username("user")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # Hashed before the INSERT (a password passed in is hashed too): set_password after it cost
    # every user an UPDATE and a second run of each post_save receiver (sessions, page cache).
    password = factory.Transformer(DEFAULT_PASSWORD, transform=make_password)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if isinstance(kwargs.get("username"), SequenceUsername):
            kwargs["username"] = str(kwargs["username"])
            return cls._get_manager(model_class).create(*args, **kwargs)
        return super()._create(model_class, *args, **kwargs)


class SellerFactory(UserFactory):
    """A seller whose Stripe account is fully onboarded and can take payments."""

    username = sequence_username("seller")
    is_seller = True
    seller_bio = factory.Faker("paragraph")
    stripe_account_id = factory.Sequence(lambda n: f"acct_test{n:010d}")
    stripe_account_status = StripeAccountStatus.ENABLED
    stripe_onboarding_completed = True
    stripe_capabilities_enabled = True


class NewSellerFactory(UserFactory):
    """A seller who has not started Stripe onboarding."""

    username = sequence_username("newseller")
    is_seller = True
