"""Becoming a seller has one rule (accounts.services.user_become_seller) and one audit row,
whether the buyer does it from their profile or by starting Stripe onboarding."""

import pytest

from accounts.tests.factories import NewSellerFactory, UserFactory
from connect import services as connect
from payments.models import AuditEvent

pytestmark = pytest.mark.django_db

BECAME = "connect.seller_became"


def became_rows(user):
    return AuditEvent.objects.filter(action=BECAME, subject_user=user)


def test_becoming_a_seller_from_the_profile_is_audited_once(client):
    user = UserFactory()
    client.force_login(user)
    form = {"action": "become_seller", "country": "US", "bio": "Hockey stubs."}

    client.post("/accounts/profile/", form)
    client.post("/accounts/profile/", {**form, "bio": "Hockey and curling stubs."})

    user.refresh_from_db()
    assert user.is_seller and user.seller_bio == "Hockey and curling stubs."
    row = became_rows(user).get()
    assert (row.actor, row.to_status) == (user, "seller")


def test_starting_onboarding_makes_a_buyer_a_seller_through_the_same_rule(stripe_sandbox):
    user = UserFactory(seller_country="US", seller_bio="Programmes too.")

    connect.seller_start_onboarding(user=user)
    connect.seller_start_onboarding(user=user)

    user.refresh_from_db()
    assert user.is_seller and (user.seller_country, user.seller_bio) == ("US", "Programmes too.")
    row = became_rows(user).get()
    assert (row.actor, row.to_status) == (user, "seller")


def test_a_seller_who_starts_onboarding_is_not_audited_as_becoming_one(stripe_sandbox):
    seller = NewSellerFactory()

    connect.seller_become(user=seller)

    assert not became_rows(seller).exists()
