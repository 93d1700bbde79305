"""Helpers for Connect's tests: a seller onboarded through our own onboarding, and the seller
dashboard as they read it."""

from accounts.tests.factories import NewSellerFactory
from connect import services as connect

DASHBOARD = "/dashboard/"


def sandbox_seller_new(sandbox, *, finished=True, leave_due=False):
    """A new seller who went through our onboarding (connect.services) against the sandbox, as
    the site does it (controller properties, payout schedule): `finished` completes Stripe's
    forms, `leave_due` leaves a requirement for later. payments/tests/factories.py's
    `sandbox_seller_onboarded` skips our onboarding."""
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    if finished:
        sandbox.complete_onboarding(seller.stripe_account_id, leave_due=leave_due)
    connect.seller_refresh_from_stripe(user=seller)
    return seller


def dashboard_page(client, user) -> str:
    """The dashboard's HTML as `user` sees it (logged in on `client`)."""
    client.force_login(user)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    return response.content.decode()
