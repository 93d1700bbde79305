"""Accounts in a real browser, on a phone-sized screen: sign up, become a seller from the profile
(sellers are US only), reach Stripe's (sandbox) onboarding for a US account, log out and in, and the
429 page after too many wrong passwords."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.views import LOGIN_RATE_PER_USERNAME

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def test_a_visitor_signs_up_becomes_a_seller_in_the_us_and_starts_stripe_onboarding(page, stripe_live):
    page.set_viewport_size(PHONE)
    site = stripe_live.site_url
    page.goto(f"{site}/")
    page.get_by_role("link", name="Sign up").click()

    page.get_by_label("Username").fill("philatelist")
    page.get_by_label("Email").fill("phil@example.com")
    page.locator("#id_password1").fill("short")
    page.locator("#id_password2").fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("This password is too short.")).to_be_visible()

    page.locator("#id_password1").fill("ticket-stubs-since-1977")
    page.locator("#id_password2").fill("ticket-stubs-since-1977")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Welcome, philatelist!")).to_be_visible()

    page.get_by_role("button", name="Menu").click()  # a phone's header folds a member's links
    page.get_by_role("link", name="philatelist").click()
    expect(page.get_by_role("heading", name="Become a seller")).to_be_visible()
    expect(page.get_by_text("Sellers must live in the United States")).to_be_visible()
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Bio").fill("Football programmes and stubs from the 60s.")
    page.get_by_role("button", name="Become a seller").click()
    expect(page.get_by_text("You are a seller now.")).to_be_visible()
    expect(page.get_by_text("sellers are US only")).to_be_visible()

    page.get_by_role("button", name="Set up payouts with Stripe").click()
    expect(page).to_have_url(re.compile(re.escape(stripe_live.url) + r"/_sandbox/onboarding/"))
    seller = User.objects.get(username="philatelist")
    assert seller.is_seller and seller.seller_country == "US" and seller.stripe_account_id
    account = stripe_live.sandbox.store.get(seller.stripe_account_id, kind="account")
    assert account["country"] == "US"
    assert account["controller"]["losses"]["payments"] == "application"


def test_log_out_and_back_in_then_too_many_wrong_passwords_show_the_429_page(page, live_server):
    page.set_viewport_size(PHONE)
    user = UserFactory(username="returning")
    page.goto(f"{live_server.url}/accounts/login/?next=/accounts/profile/")
    page.get_by_label("Username").fill("returning")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/profile/")
    expect(page.get_by_label("Email")).to_have_value(user.email)

    page.get_by_role("button", name="Menu").click()  # a phone's header folds a member's links
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    page.goto(f"{live_server.url}/accounts/login/")
    # Every log-in POST for the name counts, the successful one above included.
    for _ in range(int(LOGIN_RATE_PER_USERNAME.split("/")[0]) - 1):
        page.get_by_label("Username").fill("returning")
        page.get_by_label("Password").fill("not-my-password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    page.get_by_label("Username").fill("returning")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
