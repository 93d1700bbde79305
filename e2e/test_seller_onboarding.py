"""A new user signs up, becomes a seller through Stripe's (sandbox) onboarding, and can sell."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def sign_up(page, site_url: str, username: str) -> None:
    page.goto(f"{site_url}/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.locator("#id_password1").fill("a-long-enough-passphrase-42")
    page.locator("#id_password2").fill("a-long-enough-passphrase-42")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_a_new_user_becomes_a_seller_through_the_sandbox_onboarding_and_lands_with_payments_enabled(
    page, stripe_live
):
    sign_up(page, stripe_live.site_url, "stubfan")

    page.goto(f"{stripe_live.site_url}/dashboard/")
    expect(page.get_by_text("You are not a seller yet")).to_be_visible()
    expect(page.get_by_text("pays Stripe’s processing fees")).to_be_visible()
    page.get_by_role("button", name="Become a seller with Stripe").click()

    # Stripe's (the sandbox's) hosted onboarding, on its own origin.
    expect(page).to_have_url(re.compile(re.escape(stripe_live.url) + r"/_sandbox/onboarding/"))
    expect(page.get_by_text("stubfan@example.com")).to_be_visible()
    page.get_by_label("First name").fill("Stella")
    page.get_by_label("Last name").fill("Fan")
    page.get_by_role("button", name="Agree and submit").click()

    # Back through the return page (which re-reads the account) to the dashboard.
    expect(page).to_have_url(f"{stripe_live.site_url}/dashboard/")
    expect(page.get_by_text("Your Stripe account is ready: you can now accept payments.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Payments enabled"))).to_be_visible()
    expect(page.get_by_role("link", name="Open your Stripe dashboard")).to_be_visible()
    expect(page.locator(".balance-available").first).to_have_text("$0.00")

    seller = User.objects.get(username="stubfan")
    assert seller.is_seller
    assert seller.can_accept_payments
    assert seller.stripe_account_status == "enabled"

    # The Express dashboard opens through a fresh login link.
    page.get_by_role("link", name="Open your Stripe dashboard").click()
    expect(page).to_have_url(re.compile(re.escape(stripe_live.url) + r"/_sandbox/dashboard/"))
    expect(page.get_by_text(seller.stripe_account_id)).to_be_visible()


def test_a_seller_who_leaves_requirements_due_sees_what_is_missing_and_can_continue(page, stripe_live):
    sign_up(page, stripe_live.site_url, "halfway")
    page.goto(f"{stripe_live.site_url}/dashboard/")
    page.get_by_role("button", name="Become a seller with Stripe").click()

    page.get_by_label("Leave requirements due").check()
    page.get_by_role("button", name="Agree and submit").click()

    expect(page).to_have_url(f"{stripe_live.site_url}/dashboard/")
    expect(page.get_by_text("A photo of your ID document")).to_be_visible()
    assert not User.objects.get(username="halfway").can_accept_payments

    # Continuing makes a fresh link and goes back to the sandbox's onboarding page.
    page.get_by_role("button", name="Continue with Stripe").click()
    expect(page).to_have_url(re.compile(re.escape(stripe_live.url) + r"/_sandbox/onboarding/"))
