"""account.updated delivered, signed, through the real /payments/webhook/connect/ view."""

import pytest

from accounts.models import StripeAccountStatus
from accounts.tests.factories import NewSellerFactory, UserFactory
from connect import services as connect
from marketplace.models import Listing
from marketplace.services import listing_can_be_purchased
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent

pytestmark = pytest.mark.django_db


def started_seller():
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    return seller


def test_a_seller_who_never_comes_back_is_enabled_by_the_webhook_alone(stripe_sandbox, webhooks):
    seller = started_seller()

    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    assert webhooks() == []

    seller.refresh_from_db()
    assert seller.stripe_account_status == StripeAccountStatus.ENABLED
    assert seller.can_accept_payments
    schedule = stripe_sandbox.get(seller.stripe_account_id)["settings"]["payouts"]["schedule"]
    assert schedule["interval"] == "daily"
    assert (
        AuditEvent.objects.filter(action=connect.PAYOUT_SCHEDULE_SET_ACTION, subject_user=seller).count() == 1
    )


def test_a_redelivered_account_updated_changes_nothing(stripe_sandbox, webhooks):
    seller = started_seller()
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    assert webhooks() == []
    seller.refresh_from_db()
    before = (seller.stripe_account_status, seller.stripe_account_synced_at, AuditEvent.objects.count())
    first_event = stripe_sandbox.events(type="account.updated", account=seller.stripe_account_id)[0]

    stripe_sandbox.send_event(first_event["id"])
    assert webhooks() == []

    seller.refresh_from_db()
    assert (
        seller.stripe_account_status,
        seller.stripe_account_synced_at,
        AuditEvent.objects.count(),
    ) == before
    assert AuditEvent.objects.filter(action="stripe.account.update").count() == 1


def test_requirements_past_due_make_the_sellers_listings_unpurchasable_at_once(
    stripe_sandbox, webhooks, client
):
    seller = started_seller()
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    assert webhooks() == []
    seller.refresh_from_db()
    listing = ListingFactory(seller=seller)
    buyer = UserFactory()
    assert listing_can_be_purchased(listing=listing, buyer=buyer)

    stripe_sandbox.set_requirements(seller.stripe_account_id, past_due=["individual.verification.document"])
    assert webhooks() == []

    seller.refresh_from_db()
    assert seller.stripe_account_status == StripeAccountStatus.DISABLED
    assert not seller.can_accept_payments
    assert not listing_can_be_purchased(listing=Listing.objects.get(pk=listing.pk), buyer=buyer)
    client.force_login(buyer)
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert "Not payable yet" in page
    assert "The seller has not finished setting up payments yet" in page


def test_account_updated_for_an_account_we_do_not_know_is_recorded_and_answered_200(stripe_sandbox, webhooks):
    stranger = stripe_sandbox.create_account(onboarded=False)

    stripe_sandbox.complete_onboarding(stranger["id"])
    assert webhooks() == []

    assert AuditEvent.objects.filter(
        action="connect.account_unknown", data__stripe_account=stranger["id"]
    ).exists()
