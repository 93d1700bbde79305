import pytest
import stripe

from stripe_sandbox.pytest_plugin import SANDBOX_API_KEY


def new_express_account(**params):
    return stripe.Account.create(
        type="express", country=params.pop("country", "US"), email="new@example.com",
        capabilities={"card_payments": {"requested": True}, "transfers": {"requested": True}},
        **params)


def test_platform_account_is_returned_without_stripe_account(stripe_sandbox):
    account = stripe.Account.retrieve()
    assert account.id == stripe_sandbox.platform_account_id
    assert account.object == "account"
    assert account.charges_enabled is True


def test_new_express_account_has_requirements_due_and_inactive_capabilities(stripe_sandbox):
    account = new_express_account(business_profile={"name": "Stubs"}, metadata={"user_id": "7"})
    assert account.id.startswith("acct_")
    assert account.type == "express"
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        False, False, False)
    assert "individual.first_name" in account.requirements.currently_due
    assert "tos_acceptance.date" in account.requirements.currently_due
    assert account.capabilities.to_dict() == {"card_payments": "inactive", "transfers": "inactive"}
    assert account.business_profile.name == "Stubs"
    assert account.metadata["user_id"] == "7"
    assert account.settings.payouts.schedule.delay_days == 2


def test_connected_account_reads_itself_with_stripe_account_header(stripe_sandbox, seller):
    assert stripe.Account.retrieve(stripe_account=seller["id"]).id == seller["id"]
    assert stripe.Account.retrieve(seller["id"], stripe_account=seller["id"]).id == seller["id"]


def test_accounts_list_holds_connected_accounts_only(stripe_sandbox, seller):
    other = new_express_account()
    ids = [a.id for a in stripe.Account.list()]
    assert ids == [other.id, seller["id"]]


def test_payout_delay_days_cannot_go_below_the_country_minimum(stripe_sandbox):
    account = new_express_account(country="DE")
    assert account.settings.payouts.schedule.delay_days == 7
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Account.modify(account.id, settings={"payouts": {"schedule": {"delay_days": 3}}})
    assert caught.value.param == "settings[payouts][schedule][delay_days]"
    updated = stripe.Account.modify(
        account.id, settings={"payouts": {"schedule": {"delay_days": 14, "interval": "weekly",
                                                       "weekly_anchor": "friday"}}})
    assert updated.settings.payouts.schedule.delay_days == 14
    assert updated.settings.payouts.schedule.interval == "weekly"
    minimum = stripe.Account.modify(
        account.id, settings={"payouts": {"schedule": {"delay_days": "minimum"}}})
    assert minimum.settings.payouts.schedule.delay_days == 7


def test_account_update_sends_account_updated_with_previous_attributes(stripe_sandbox, seller):
    stripe.Account.modify(seller["id"], email="changed@example.com")
    event = stripe_sandbox.events("account.updated")[-1]
    assert event["account"] == seller["id"]
    assert event["data"]["object"]["email"] == "changed@example.com"
    assert event["data"]["previous_attributes"]["email"] == "seller@example.com"


def test_account_link_opens_onboarding_and_submitting_enables_the_account(stripe_sandbox):
    account = new_express_account()
    link = stripe.AccountLink.create(account=account.id, type="account_onboarding",
                                     refresh_url="https://shop.test/refresh",
                                     return_url="https://shop.test/return")
    assert link.object == "account_link"
    assert link.expires_at == link.created + 300
    assert link.url.startswith(stripe_sandbox.public_url + "/_sandbox/onboarding/")
    page = stripe_sandbox.request("GET", link.url)
    assert page.status == 200
    assert 'name="first_name"' in page.text and "Leave requirements due" in page.text
    submitted = stripe_sandbox.request("POST", link.url, {
        "first_name": "Ada", "last_name": "Lovelace", "dob": "1985-12-10",
        "routing_number": "110000000", "account_number": "000123456789"})
    assert submitted.status == 302
    assert submitted.header("Location") == "https://shop.test/return"
    account = stripe.Account.retrieve(account.id)
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        True, True, True)
    assert account.requirements.currently_due == []
    assert account.capabilities.to_dict() == {"card_payments": "active", "transfers": "active"}
    assert account.external_accounts.data[0].last4 == "6789"
    event = stripe_sandbox.events("account.updated", account=account.id)[-1]
    assert event["data"]["object"]["charges_enabled"] is True
    # The link was used: opening it again asks the platform for a fresh one.
    again = stripe_sandbox.request("GET", link.url)
    assert again.status == 302 and again.header("Location") == "https://shop.test/refresh"


def test_onboarding_can_leave_requirements_due(stripe_sandbox):
    account = new_express_account()
    link = stripe.AccountLink.create(account=account.id, type="account_onboarding",
                                     refresh_url="https://shop.test/refresh",
                                     return_url="https://shop.test/return")
    stripe_sandbox.request("GET", link.url)
    response = stripe_sandbox.request("POST", link.url, {"first_name": "A", "last_name": "B",
                                                          "dob": "1990-01-01", "leave_due": "1"})
    assert response.header("Location") == "https://shop.test/return"
    account = stripe.Account.retrieve(account.id)
    assert account.details_submitted is True
    assert account.charges_enabled is False
    assert account.requirements.currently_due
    assert account.requirements.disabled_reason == "requirements.past_due"


def test_expired_account_link_redirects_to_refresh_url(stripe_sandbox):
    account = new_express_account()
    link = stripe.AccountLink.create(account=account.id, type="account_onboarding",
                                     refresh_url="https://shop.test/refresh",
                                     return_url="https://shop.test/return")
    stripe_sandbox.advance_time(301)
    response = stripe_sandbox.request("GET", link.url)
    assert response.status == 302
    assert response.header("Location") == "https://shop.test/refresh"


def test_account_link_needs_its_urls_and_a_known_account(stripe_sandbox):
    account = new_express_account()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.AccountLink.create(account=account.id, type="account_onboarding",
                                  return_url="https://shop.test/return")
    assert caught.value.param == "refresh_url"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.AccountLink.create(account="acct_unknown", type="account_onboarding",
                                  refresh_url="https://x.test", return_url="https://x.test")
    assert caught.value.http_status == 404 and caught.value.code == "resource_missing"


def test_complete_onboarding_helper_matches_the_page(stripe_sandbox):
    account = new_express_account()
    result = stripe_sandbox.complete_onboarding(account.id)
    assert result["charges_enabled"] is True
    incomplete = new_express_account()
    result = stripe_sandbox.complete_onboarding(incomplete.id, leave_due=True)
    assert result["details_submitted"] is True and result["charges_enabled"] is False


def test_set_requirements_disables_charges_and_sends_account_updated(stripe_sandbox, seller):
    stripe_sandbox.set_requirements(seller["id"], past_due=["individual.verification.document"],
                                    disabled_reason="requirements.past_due")
    account = stripe.Account.retrieve(seller["id"])
    assert account.charges_enabled is False
    assert account.requirements.past_due == ["individual.verification.document"]
    assert account.requirements.disabled_reason == "requirements.past_due"
    event = stripe_sandbox.events("account.updated", account=seller["id"])[-1]
    assert event["data"]["previous_attributes"]["charges_enabled"] is True
    # And over HTTP, as a browser test or another process would.
    response = stripe_sandbox.request(
        "POST", f"/_sandbox/accounts/{seller['id']}/requirements",
        {"past_due[]": [], "disabled_reason": ""})
    assert response.status == 200
    assert stripe.Account.retrieve(seller["id"]).charges_enabled is True


def test_login_link_opens_a_dashboard_with_balance_and_payments(stripe_sandbox, seller):
    from .conftest import pay

    pay(seller["id"], description="Order #1")
    link = stripe.Account.create_login_link(seller["id"])
    assert link.object == "login_link"
    page = stripe_sandbox.request("GET", link.url)
    assert page.status == 200
    assert "$43.25" in page.text  # 5000 - 175 Stripe fee - 500 application fee, pending
    assert "Order #1" in page.text


def test_login_link_needs_a_finished_onboarding(stripe_sandbox):
    account = new_express_account()
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Account.create_login_link(account.id)


def test_stripe_client_style_works_too(stripe_sandbox):
    client = stripe_sandbox.stripe_client(SANDBOX_API_KEY)
    account = client.v1.accounts.create(params={"type": "express", "country": "GB"})
    assert account.settings.payouts.schedule.delay_days == 3
    assert client.v1.accounts.retrieve(account.id).id == account.id
    link = client.v1.account_links.create(params={
        "account": account.id, "type": "account_onboarding",
        "refresh_url": "https://x.test/r", "return_url": "https://x.test/ok"})
    assert link.url


def test_external_accounts_capabilities_and_persons_of_an_onboarded_account(stripe_sandbox, seller):
    banks = stripe.Account.list_external_accounts(seller["id"])
    assert banks.data[0].object == "bank_account"
    bank = stripe.Account.retrieve_external_account(seller["id"], banks.data[0].id)
    assert bank.routing_number == "110000000"
    capabilities = stripe.Account.list_capabilities(seller["id"])
    assert {c.id: c.status for c in capabilities.data} == {"card_payments": "active",
                                                           "transfers": "active"}
    assert stripe.Account.list_persons(seller["id"]).data == []
