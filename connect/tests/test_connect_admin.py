"""Staff refresh sellers' Stripe status from the User admin."""

import pytest

from accounts.models import StripeAccountStatus
from accounts.tests.factories import NewSellerFactory, UserFactory
from connect import services as connect

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


def test_staff_refresh_a_sellers_status_from_stripe(admin_client, stripe_sandbox):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    buyer = UserFactory()

    response = admin_client.post(
        CHANGELIST,
        {"action": "refresh_stripe_status", "_selected_action": [seller.pk, buyer.pk]},
        follow=True,
    )

    seller.refresh_from_db()
    assert seller.stripe_account_status == StripeAccountStatus.ENABLED
    page = response.content.decode()
    assert f"Refreshed {seller.username}: enabled" in page
    assert "1 user(s) without a Stripe account skipped." in page


def test_a_stripe_failure_is_reported_not_raised(admin_client, stripe_sandbox):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    stripe_sandbox.fail_next("/v1/accounts", times=3, exception="timeout")

    response = admin_client.post(
        CHANGELIST, {"action": "refresh_stripe_status", "_selected_action": [seller.pk]}, follow=True
    )

    assert response.status_code == 200
    assert f"Stripe did not answer for {seller.username}" in response.content.decode()


def test_the_action_is_for_staff_only(client, stripe_sandbox):
    client.force_login(UserFactory())

    response = client.post(CHANGELIST, {"action": "refresh_stripe_status", "_selected_action": [1]})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
