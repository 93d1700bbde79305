"""Demo sellers are onboarded through the sandbox's onboarding page (seed_demo's helper)."""

import pytest

from accounts.tests.factories import UserFactory
from demo.sellers import connect_onboard_demo_sellers

pytestmark = pytest.mark.django_db


def test_demo_sellers_are_onboarded_through_the_sandbox_page_and_the_halfway_one_is_not(stripe_sandbox):
    sellers = [UserFactory(), UserFactory()]
    halfway = UserFactory()
    lines = []

    connect_onboard_demo_sellers(sellers=sellers, halfway_seller=halfway, log=lines.append)

    for seller in sellers:
        seller.refresh_from_db()
        assert seller.can_accept_payments, lines
    halfway.refresh_from_db()
    assert halfway.is_seller and halfway.stripe_account_id
    assert not halfway.can_accept_payments
    assert halfway.stripe_requirements_due
    assert len(lines) == 3


def test_demo_onboarding_without_a_reachable_sandbox_logs_and_leaves_sellers_as_they_were(settings):
    import stripe

    settings.STRIPE_API_HOST = "http://127.0.0.1:9"
    saved = stripe.api_base, stripe.max_network_retries
    stripe.api_base, stripe.max_network_retries = "http://127.0.0.1:9", 0
    try:
        seller = UserFactory()
        lines = []
        connect_onboard_demo_sellers(sellers=[seller, UserFactory()], log=lines.append)
    finally:
        stripe.api_base, stripe.max_network_retries = saved

    seller.refresh_from_db()
    assert seller.stripe_account_id == ""
    assert not seller.can_accept_payments
    assert len(lines) == 1 and "did not answer" in lines[0]
