"""account.application.deauthorized through the real Connect webhook view (docs/sandbox.md,
"A lost connected account").

The sandbox sends it when an account is deleted or disconnects, and refuses reads of that
account afterwards, as Stripe does; nothing here may answer a 5xx that Stripe would retry."""

import pytest
import stripe
from django.core import mail

from accounts.models import StripeAccountStatus
from accounts.tests.factories import UserFactory
from connect import services as connect
from marketplace.models import Listing, ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent, Order, OrderStatus
from payments.tests.webhook_support import pay, sandbox_order, sandbox_seller_onboarded

pytestmark = pytest.mark.django_db


def deauthorized_deliveries(sandbox):
    return [d for d in sandbox.deliveries if d["event_type"] == "account.application.deauthorized"]


def test_a_deleted_account_disconnects_its_seller_at_once_and_is_answered_2xx(stripe_sandbox, webhooks):
    seller = sandbox_seller_onboarded(stripe_sandbox, email="seller@example.com")
    UserFactory(is_staff=True, email="staff@example.com")
    on_sale = ListingFactory(seller=seller)
    checkout = sandbox_order(stripe_sandbox, seller=seller)
    assert webhooks() == []
    mail.outbox.clear()

    stripe.Account.delete(seller.stripe_account_id)
    assert webhooks() == []

    [delivery] = deauthorized_deliveries(stripe_sandbox)
    assert delivery["status"] == "succeeded"
    seller.refresh_from_db()
    assert seller.stripe_disconnected_at is not None
    assert seller.stripe_account_status == StripeAccountStatus.DISABLED
    assert not seller.can_accept_payments
    assert Listing.objects.get(pk=on_sale.pk).status == ListingStatus.WITHDRAWN
    assert Listing.objects.get(pk=checkout.listing_id).status == ListingStatus.WITHDRAWN
    assert Order.objects.get(pk=checkout.pk).status == OrderStatus.CANCELLED
    row = AuditEvent.objects.get(action="connect.account_disconnected", subject_user=seller)
    assert row.data["cancelled_orders"] == [checkout.pk]
    assert sorted(row.data["withdrawn_listings"]) == sorted([on_sale.pk, checkout.listing_id])
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["seller@example.com", "staff@example.com"]


def test_a_seller_disconnecting_is_handled_the_same_and_a_redelivery_changes_nothing(
        stripe_sandbox, webhooks):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    ListingFactory(seller=seller)

    stripe_sandbox.disconnect_account(seller.stripe_account_id)
    assert webhooks() == []
    stripe_sandbox.redeliver(deauthorized_deliveries(stripe_sandbox)[0]["id"])
    assert webhooks() == []

    assert AuditEvent.objects.filter(action="connect.account_disconnected", subject_user=seller).count() == 1
    assert not Listing.objects.filter(seller=seller).exclude(status=ListingStatus.WITHDRAWN).exists()


def test_an_event_of_a_lost_account_is_recorded_not_applied_and_answered_2xx(stripe_sandbox, webhooks):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    order = sandbox_order(stripe_sandbox, seller=seller)
    pay(order, "pm_card_chargeDeclined")  # an event production enables, still to be delivered
    [failed] = stripe_sandbox.events(type="payment_intent.payment_failed", account=seller.stripe_account_id)

    # Delivered only after the account is gone: dj-stripe's re-fetch is refused (403).
    stripe_sandbox.disconnect_account(seller.stripe_account_id)

    assert webhooks() == []
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    row = AuditEvent.objects.get(action="webhook.not_applied", stripe_event_id=failed["id"])
    assert row.data["reason"] in ("account_unreadable", "resource_missing")


def test_a_disconnected_seller_onboarding_again_gets_a_new_account(stripe_sandbox, webhooks):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    lost = seller.stripe_account_id
    stripe_sandbox.disconnect_account(lost)
    assert webhooks() == []
    seller.refresh_from_db()

    connect.seller_start_onboarding(user=seller)

    seller.refresh_from_db()
    assert seller.stripe_account_id not in ("", lost)
    assert seller.stripe_disconnected_at is None
    assert seller.stripe_account_status == StripeAccountStatus.PENDING


def test_a_disconnected_seller_cannot_open_a_checkout(stripe_sandbox, webhooks, client):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    listing = ListingFactory(seller=seller)
    stripe_sandbox.disconnect_account(seller.stripe_account_id)
    assert webhooks() == []
    client.force_login(UserFactory())

    response = client.post("/payments/create-payment-intent/", {"listing_id": listing.pk},
                           content_type="application/json")

    assert 400 <= response.status_code < 500
    assert not Order.objects.filter(listing=listing).exists()


def test_deauthorized_for_an_account_we_do_not_know_is_audited_and_answered_2xx(stripe_sandbox, webhooks):
    stranger = stripe_sandbox.create_account()
    stripe_sandbox.disconnect_account(stranger["id"])

    assert webhooks() == []
    assert AuditEvent.objects.filter(action="connect.account_unknown",
                                     data__stripe_account=stranger["id"]).exists()


def test_the_dashboard_of_a_disconnected_seller_says_so_and_offers_to_connect_again(
        stripe_sandbox, webhooks, client):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    stripe_sandbox.disconnect_account(seller.stripe_account_id)
    assert webhooks() == []
    client.force_login(seller)

    page = client.get("/dashboard/").text

    assert "Stripe account disconnected" in page
    assert "Connect a Stripe account" in page
    assert "no longer connected" in page  # the balance panel does not ask Stripe about a lost account
