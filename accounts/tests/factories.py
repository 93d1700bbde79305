import factory
from django.contrib.auth import get_user_model

from accounts.models import StripeAccountStatus

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SellerFactory(UserFactory):
    """A seller whose Stripe account is fully onboarded and can take payments."""

    username = factory.Sequence(lambda n: f"seller{n}")
    is_seller = True
    seller_bio = factory.Faker("paragraph")
    stripe_account_id = factory.Sequence(lambda n: f"acct_test{n:010d}")
    stripe_account_status = StripeAccountStatus.ENABLED
    stripe_onboarding_completed = True
    stripe_capabilities_enabled = True


class NewSellerFactory(UserFactory):
    """A seller who has not started Stripe onboarding."""

    username = factory.Sequence(lambda n: f"newseller{n}")
    is_seller = True
