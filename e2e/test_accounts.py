"""Accounts in a real browser, on a phone-sized screen: sign up, become a seller from the profile
(sellers are US only), reach Stripe's (sandbox) onboarding for a US account, log out and in, the
429 page after too many wrong passwords, and the password reset (by email) and change."""

import re

import pytest
from django.core import mail
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


def test_a_forgotten_password_is_reset_from_the_emailed_link_that_works_once(page, live_server, settings):
    page.set_viewport_size(PHONE)
    # Emailed links are built from SITE_URL, never from the request's Host header.
    site = settings.SITE_URL = live_server.url
    UserFactory(username="forgetful", email="forgetful@example.com")
    page.goto(f"{site}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("forgetful@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    (email,) = mail.outbox
    assert email.to == ["forgetful@example.com"]
    link = re.search(r"http\S+/accounts/password/reset/\S+/\S+/", email.body).group(0)
    assert link.startswith(site)
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("brand-new-stubs-2026")
    page.get_by_label("New password confirmation").fill("brand-new-stubs-2026")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()

    page.goto(link)
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()

    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill("forgetful")
    page.get_by_label("Password").fill("brand-new-stubs-2026")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_a_reset_for_an_unknown_address_shows_the_same_page_and_sends_nothing(page, live_server):
    page.goto(f"{live_server.url}/accounts/password/reset/")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert mail.outbox == []


def test_a_member_changes_the_password_from_the_profile_and_logs_in_with_the_new_one(page, live_server):
    site = live_server.url
    UserFactory(username="careful")
    page.goto(f"{site}/accounts/login/?next=/accounts/profile/")
    page.get_by_label("Username").fill("careful")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Change your password").click()

    page.get_by_label("Old password").fill("not-my-password")
    page.get_by_label("New password", exact=True).fill("fresh-stubs-2026")
    page.get_by_label("New password confirmation").fill("fresh-stubs-2026")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your old password was entered incorrectly")).to_be_visible()

    page.get_by_label("Old password").fill(DEFAULT_PASSWORD)
    page.get_by_label("New password", exact=True).fill("fresh-stubs-2026")
    page.get_by_label("New password confirmation").fill("fresh-stubs-2026")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill("careful")
    page.get_by_label("Password").fill("fresh-stubs-2026")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
