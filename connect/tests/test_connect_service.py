"""The Connect service through the in-process Stripe sandbox (fixture `stripe_sandbox`)."""

import pytest
from django.test import override_settings

from accounts.models import StripeAccountStatus
from accounts.tests.factories import NewSellerFactory, UserFactory
from connect import services as connect
from core.errors import Conflict, PaymentProviderError
from marketplace.models import Listing
from marketplace.services import listing_can_be_purchased
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a call as if its transaction committed, so its on_commit work (the payout schedule,
    set after the commit) runs too: the test's own transaction never commits."""

    def run(call, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(**kwargs)

    return run


def onboarded_seller(stripe_sandbox, commit, **factory_fields):
    """A seller who went through the sandbox onboarding page and came back."""
    seller = NewSellerFactory(**factory_fields)
    connect.seller_start_onboarding(user=seller)
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    commit(connect.seller_refresh_from_stripe, user=seller)
    return seller


def last_account_updated(stripe_sandbox, account_id):
    return stripe_sandbox.events(type="account.updated", account=account_id)[-1]


def test_first_onboarding_makes_a_buyer_a_seller_with_a_prefilled_express_account(stripe_sandbox, settings):
    settings.SITE_URL = "https://stubs.example"
    user = UserFactory(username="ada", email="ada@example.com", seller_country="US")

    url = connect.seller_start_onboarding(user=user)

    user.refresh_from_db()
    assert user.is_seller
    assert user.stripe_account_status == StripeAccountStatus.PENDING
    assert url.startswith(stripe_sandbox.public_url + "/_sandbox/onboarding/")
    account = stripe_sandbox.get(user.stripe_account_id)
    assert account["type"] == "express"
    assert account["country"] == "US"
    # Made with explicit controller properties: Express dashboard, the platform liable for losses.
    assert account["controller"]["stripe_dashboard"]["type"] == "express"
    assert account["controller"]["losses"]["payments"] == "application"
    # The platform pays Stripe's fees on these accounts (docs/going-live.md): Stripe reports the
    # payer it was given, not the legacy Express value.
    assert account["controller"]["fees"]["payer"] == "application"
    assert user.stripe_losses_liable == "application"
    assert account["email"] == "ada@example.com"
    assert set(account["capabilities"]) == {"card_payments", "transfers"}
    assert account["business_profile"]["url"] == "https://stubs.example/sellers/ada/"
    assert account["business_profile"]["mcc"] == "5945"
    assert account["business_profile"]["product_description"]
    assert account["metadata"] == {"user_id": str(user.pk), "username": "ada"}


def test_a_development_site_address_is_not_sent_as_the_business_url(stripe_sandbox, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    user = UserFactory()

    connect.seller_start_onboarding(user=user)

    user.refresh_from_db()
    assert stripe_sandbox.get(user.stripe_account_id)["business_profile"]["url"] is None


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://stubs.example/sellers/a/", True),
        ("http://localhost:8000/sellers/a/", False),
        ("http://127.0.0.1:8000/sellers/a/", False),
        ("http://shop.localhost/sellers/a/", False),
        ("http://[::1]:8000/sellers/a/", False),
    ],
)
def test_only_public_addresses_count_as_a_business_url(url, public):
    assert connect.is_public_url(url) is public


def test_a_second_onboarding_reuses_the_account_and_makes_a_fresh_link(stripe_sandbox):
    seller = NewSellerFactory()
    first = connect.seller_start_onboarding(user=seller)
    account_id = seller.stripe_account_id

    second = connect.seller_start_onboarding(user=seller)

    seller.refresh_from_db()
    assert seller.stripe_account_id == account_id
    assert second != first
    assert AuditEvent.objects.filter(action="stripe.account.create").count() == 1
    assert AuditEvent.objects.filter(action="stripe.account_link.create").count() == 2


def test_a_double_submit_from_two_stale_copies_of_the_user_creates_one_account(stripe_sandbox):
    seller = NewSellerFactory()
    stale_copy = type(seller).objects.get(pk=seller.pk)

    connect.seller_ensure_account(user=seller)
    connect.seller_ensure_account(user=stale_copy)  # same idempotency key: Stripe replays

    assert stale_copy.stripe_account_id == seller.stripe_account_id
    assert len(stripe_sandbox.events(type="account.updated")) == 0
    assert AuditEvent.objects.filter(action="connect.account_created").count() == 1


def test_return_after_finishing_onboarding_stores_enabled_status(stripe_sandbox, commit):
    seller = onboarded_seller(stripe_sandbox, commit)

    assert seller.stripe_account_status == StripeAccountStatus.ENABLED
    assert seller.stripe_onboarding_completed
    assert seller.stripe_capabilities_enabled
    assert seller.stripe_requirements_due == []
    assert seller.stripe_disabled_reason == ""
    assert seller.stripe_account_synced_at is not None
    assert seller.can_accept_payments


def test_return_without_finishing_keeps_the_seller_pending_with_requirements_due(stripe_sandbox):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)

    connect.seller_refresh_from_stripe(user=seller)

    assert seller.stripe_account_status == StripeAccountStatus.PENDING
    assert not seller.stripe_onboarding_completed
    assert "external_account" in seller.stripe_requirements_due
    assert not seller.can_accept_payments


def test_onboarding_left_incomplete_is_restricted_with_the_missing_items(stripe_sandbox):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    stripe_sandbox.complete_onboarding(seller.stripe_account_id, leave_due=True)

    connect.seller_refresh_from_stripe(user=seller)

    assert seller.stripe_onboarding_completed
    assert seller.stripe_account_status in (StripeAccountStatus.RESTRICTED, StripeAccountStatus.DISABLED)
    assert "individual.verification.document" in seller.stripe_requirements_due
    assert not seller.can_accept_payments


def test_account_updated_alone_enables_a_seller_who_never_came_back(stripe_sandbox):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    event = last_account_updated(stripe_sandbox, seller.stripe_account_id)

    synced = connect.seller_sync_account(account=event["data"]["object"], stripe_event_id=event["id"])

    assert synced.pk == seller.pk
    seller.refresh_from_db()
    assert seller.can_accept_payments
    assert AuditEvent.objects.filter(
        action="connect.account_synced", subject_user=seller, stripe_event_id=event["id"]
    ).exists()


def test_a_duplicate_account_updated_changes_nothing_and_sets_the_payout_schedule_once(
    stripe_sandbox, commit
):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    event = last_account_updated(stripe_sandbox, seller.stripe_account_id)
    commit(connect.seller_sync_account, account=event["data"]["object"], stripe_event_id=event["id"])
    seller.refresh_from_db()
    stored_fields = [
        *connect.AccountState.from_account(event["data"]["object"]).user_fields(),
        "stripe_account_synced_at",
    ]
    state_after_first = {name: getattr(seller, name) for name in stored_fields}
    audit_rows = AuditEvent.objects.count()

    commit(connect.seller_sync_account, account=event["data"]["object"], stripe_event_id=event["id"])

    seller.refresh_from_db()
    assert {f: getattr(seller, f) for f in state_after_first} == state_after_first
    assert AuditEvent.objects.count() == audit_rows
    assert AuditEvent.objects.filter(action="stripe.account.update").count() == 1
    assert AuditEvent.objects.filter(action=connect.PAYOUT_SCHEDULE_SET_ACTION).count() == 1


def test_the_payout_schedule_waits_for_the_commit_of_the_surrounding_transaction(
    stripe_sandbox, django_capture_on_commit_callbacks
):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)

    with django_capture_on_commit_callbacks() as callbacks:
        connect.seller_refresh_from_stripe(user=seller)

    assert seller.can_accept_payments
    assert not AuditEvent.objects.filter(action="stripe.account.update").exists()
    for callback in callbacks:  # the commit (other work may wait for it too: page caches)
        callback()
    assert AuditEvent.objects.filter(action="stripe.account.update").count() == 1


def test_account_updated_for_an_unknown_account_is_recorded_and_ignored(stripe_sandbox):
    stranger_account = stripe_sandbox.create_account(onboarded=True)

    assert connect.seller_sync_account(account=stranger_account, stripe_event_id="evt_unknown") is None

    row = AuditEvent.objects.get(action="connect.account_unknown")
    assert row.stripe_event_id == "evt_unknown"
    assert stranger_account["id"] in row.message


def test_an_account_created_but_never_stored_is_linked_back_from_its_metadata(stripe_sandbox):
    seller = NewSellerFactory()
    lost = stripe_sandbox.create_account(
        onboarded=True, metadata={"user_id": str(seller.pk), "username": seller.username}
    )

    synced = connect.seller_sync_account(account=lost, stripe_event_id="evt_late")

    assert synced.pk == seller.pk
    seller.refresh_from_db()
    assert seller.stripe_account_id == lost["id"]
    assert seller.can_accept_payments
    assert AuditEvent.objects.filter(action="connect.account_linked", subject_user=seller).exists()


def test_metadata_naming_another_username_or_a_user_with_an_account_links_nothing(stripe_sandbox):
    seller = NewSellerFactory()
    other = stripe_sandbox.create_account(metadata={"user_id": str(seller.pk), "username": "someone-else"})
    assert connect.seller_sync_account(account=other) is None

    seller.stripe_account_id = "acct_already0000001"
    seller.save()
    mine = stripe_sandbox.create_account(metadata={"user_id": str(seller.pk), "username": seller.username})
    assert connect.seller_sync_account(account=mine) is None
    seller.refresh_from_db()
    assert seller.stripe_account_id == "acct_already0000001"


def test_a_seller_with_requirements_past_due_can_no_longer_be_bought_from(stripe_sandbox, commit):
    seller = onboarded_seller(stripe_sandbox, commit)
    listing = ListingFactory(seller=seller)
    buyer = UserFactory()
    assert listing_can_be_purchased(listing=listing, buyer=buyer)

    stripe_sandbox.set_requirements(seller.stripe_account_id, past_due=["individual.verification.document"])
    event = last_account_updated(stripe_sandbox, seller.stripe_account_id)
    connect.seller_sync_account(account=event["data"]["object"], stripe_event_id=event["id"])

    seller.refresh_from_db()
    assert seller.stripe_account_status == StripeAccountStatus.DISABLED
    assert seller.stripe_requirements_past_due == ["individual.verification.document"]
    assert seller.stripe_disabled_reason == "requirements.past_due"
    assert not listing_can_be_purchased(listing=Listing.objects.get(pk=listing.pk), buyer=buyer)


def test_clearing_the_past_due_requirements_lets_the_seller_sell_again(stripe_sandbox, commit):
    seller = onboarded_seller(stripe_sandbox, commit)
    stripe_sandbox.set_requirements(seller.stripe_account_id, past_due=["external_account"])
    connect.seller_refresh_from_stripe(user=seller)
    assert not seller.can_accept_payments

    stripe_sandbox.set_requirements(seller.stripe_account_id, past_due=[])
    connect.seller_refresh_from_stripe(user=seller)

    assert seller.can_accept_payments


@override_settings(SELLER_PAYOUT_DELAY_DAYS=1)
def test_payout_delay_below_the_us_minimum_is_raised_to_two_days(stripe_sandbox, commit):
    seller = onboarded_seller(stripe_sandbox, commit, seller_country="US")

    schedule = stripe_sandbox.get(seller.stripe_account_id)["settings"]["payouts"]["schedule"]
    assert schedule == {**schedule, "delay_days": 2, "interval": "daily"}
    row = AuditEvent.objects.get(action=connect.PAYOUT_SCHEDULE_SET_ACTION, subject_user=seller)
    assert row.data == {"stripe_account": seller.stripe_account_id, "delay_days": 2, "country": "US"}


@override_settings(SELLER_PAYOUT_DELAY_DAYS=9)
def test_payout_delay_above_the_minimum_is_used_as_set(stripe_sandbox, commit):
    seller = onboarded_seller(stripe_sandbox, commit, seller_country="US")

    assert stripe_sandbox.get(seller.stripe_account_id)["settings"]["payouts"]["schedule"]["delay_days"] == 9


@override_settings(SELLER_PAYOUT_DELAY_DAYS=1)
def test_a_seller_outside_the_us_is_refused_before_any_stripe_account_is_made(stripe_sandbox):
    seller = NewSellerFactory(seller_country="GB")  # a profile saved before sellers were US only

    with pytest.raises(connect.SellerCountryNotSupported):
        connect.seller_start_onboarding(user=seller)

    seller.refresh_from_db()
    assert seller.stripe_account_id == ""
    assert not AuditEvent.objects.filter(action="stripe.account.create").exists()


def test_the_payout_schedule_is_not_set_before_onboarding_completes(stripe_sandbox, commit):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)

    commit(connect.seller_refresh_from_stripe, user=seller)

    assert not AuditEvent.objects.filter(
        action__in=["stripe.account.update", connect.PAYOUT_SCHEDULE_SET_ACTION]
    )


def test_a_failed_payout_schedule_call_keeps_the_status_and_is_retried_on_the_next_sync(
    stripe_sandbox, commit
):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    stripe_sandbox.fail_next(f"/v1/accounts/{seller.stripe_account_id}", method="POST", status=500, times=3)

    commit(connect.seller_refresh_from_stripe, user=seller)

    assert seller.can_accept_payments
    assert not AuditEvent.objects.filter(action=connect.PAYOUT_SCHEDULE_SET_ACTION).exists()
    commit(connect.seller_refresh_from_stripe, user=seller)
    assert AuditEvent.objects.filter(action=connect.PAYOUT_SCHEDULE_SET_ACTION).count() == 1


def test_balance_reads_available_and_pending_per_currency(stripe_sandbox, commit):
    seller = onboarded_seller(stripe_sandbox, commit)

    balance = connect.seller_balance(user=seller)

    assert balance.as_json() == {"available": {"usd": 0}, "pending": {"usd": 0}}
    assert balance.rows() == [{"currency": "USD", "available": "$0.00", "pending": "$0.00"}]


def test_balance_of_a_seller_without_an_account_is_a_conflict(stripe_sandbox):
    with pytest.raises(connect.NoStripeAccount):
        connect.seller_balance(user=NewSellerFactory())


def test_balance_of_a_non_seller_is_refused(stripe_sandbox):
    with pytest.raises(connect.NotASeller):
        connect.seller_balance(user=UserFactory())


def test_login_link_opens_the_express_dashboard_once_onboarded(stripe_sandbox, commit):
    seller = onboarded_seller(stripe_sandbox, commit)

    url = connect.seller_login_link(user=seller)

    assert url.startswith(stripe_sandbox.public_url + "/_sandbox/dashboard/")
    assert stripe_sandbox.request("GET", url).status == 200


def test_login_link_before_onboarding_is_a_clear_conflict(stripe_sandbox):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)

    with pytest.raises(Conflict) as error:
        connect.seller_login_link(user=seller)
    assert "Finish Stripe onboarding" in error.value.message


@pytest.mark.parametrize("fault", [{"status": 500}, {"exception": "timeout"}, {"status": 503}])
def test_stripe_failing_becomes_a_payment_provider_error_and_is_audited(stripe_sandbox, fault):
    seller = NewSellerFactory()
    stripe_sandbox.fail_next("/v1/accounts", times=3, **fault)

    with pytest.raises(PaymentProviderError):
        connect.seller_start_onboarding(user=seller)

    seller.refresh_from_db()
    assert seller.stripe_account_id == ""
    assert AuditEvent.objects.filter(action="stripe.account.create", message__startswith="failed").exists()


def test_status_reports_what_was_last_synced(stripe_sandbox, commit):
    seller = onboarded_seller(stripe_sandbox, commit)

    status = connect.seller_status(user=seller)

    assert status["account_id"] == seller.stripe_account_id
    assert status["status"] == "enabled"
    assert status["charges_enabled"] and status["payouts_enabled"] and status["details_submitted"]
    assert status["requirements_due"] == [] and status["requirements_past_due"] == []
    assert status["disabled_reason"] is None
    assert status["can_accept_payments"] is True
