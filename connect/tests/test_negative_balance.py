"""Negative seller balances: with direct charges on Express accounts the platform is liable for
what a seller cannot pay back. A dispute takes the balance negative in the sandbox as on
Stripe; Stripe sends no balance.available for a debit, so the dispute and refund events
themselves (and an hourly read of sellers with recent ones) make the app re-read the balance,
and the seller takes no new orders until it is covered."""

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tests.factories import UserFactory
from connect import services as connect
from connect.services.payouts import sellers_balance_refresh
from marketplace.models import Listing
from marketplace.services import listing_can_be_purchased
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent
from payments.services.refunds import refund_request
from payments.tests.factories import staff_member
from payments.tests.webhook_support import pay, sandbox_order, sandbox_seller_onboarded

pytestmark = pytest.mark.django_db


def disputed_seller(stripe_sandbox):
    seller = sandbox_seller_onboarded(
        stripe_sandbox, email="seller@example.com", stripe_losses_liable="application"
    )
    order = sandbox_order(stripe_sandbox, seller=seller)
    pay(order, payment_method="pm_card_disputed")
    return seller


def test_a_dispute_that_takes_the_balance_negative_stops_new_orders_and_tells_staff(stripe_sandbox, webhooks):
    UserFactory(is_staff=True, email="staff@example.com")
    seller = disputed_seller(stripe_sandbox)
    other_listing = ListingFactory(seller=seller)

    assert webhooks() == []

    seller.refresh_from_db()
    assert seller.stripe_balance_cents < 0
    assert seller.stripe_balance_negative and not seller.can_accept_payments
    assert not listing_can_be_purchased(listing=Listing.objects.get(pk=other_listing.pk), buyer=UserFactory())
    row = AuditEvent.objects.get(action="connect.balance_negative", subject_user=seller)
    assert "liable: application" in row.message
    subjects = [message.subject for message in mail.outbox if "staff@example.com" in message.to]
    assert any("Negative Stripe balance" in subject for subject in subjects)


def test_a_won_dispute_covers_the_balance_and_the_seller_sells_again(stripe_sandbox, webhooks):
    seller = disputed_seller(stripe_sandbox)
    assert webhooks() == []
    [dispute] = [e for e in stripe_sandbox.events(type="charge.dispute.created")]

    stripe_sandbox.resolve_dispute(dispute["data"]["object"]["id"], "won")
    assert webhooks() == []

    seller.refresh_from_db()
    assert seller.stripe_balance_cents >= 0
    assert seller.can_accept_payments
    assert AuditEvent.objects.filter(action="connect.balance_covered", subject_user=seller).count() == 1


def test_the_balance_endpoint_records_what_stripe_says(stripe_sandbox, client):
    seller = disputed_seller(stripe_sandbox)
    client.force_login(seller)

    response = client.get("/payments/connect/balance/")

    assert response.status_code == 200
    seller.refresh_from_db()
    assert seller.stripe_balance_negative
    assert AuditEvent.objects.filter(action="connect.balance_negative", subject_user=seller).count() == 1


def test_recording_the_same_negative_balance_twice_tells_staff_once(stripe_sandbox):
    seller = disputed_seller(stripe_sandbox)

    connect.seller_balance(user=seller)
    connect.seller_balance(user=seller)

    assert AuditEvent.objects.filter(action="connect.balance_negative", subject_user=seller).count() == 1


def test_staff_see_negative_balances_and_the_liability_in_the_user_admin(stripe_sandbox, client):
    seller = disputed_seller(stripe_sandbox)
    connect.seller_balance(user=seller)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get("/admin/accounts/user/?stripe_balance=negative").content.decode()

    assert seller.username in page
    assert "NEGATIVE (liable: application)" in page


def test_the_dashboard_tells_the_seller_why_no_new_orders_come(stripe_sandbox, client):
    seller = disputed_seller(stripe_sandbox)
    client.force_login(seller)

    page = client.get("/dashboard/").text

    assert "Balance below zero" in page
    assert "Buyers cannot buy your listings" in page


def test_the_refresh_command_lifts_the_block_once_stripe_says_the_balance_is_covered(stripe_sandbox):
    from django.core.management import call_command

    seller = disputed_seller(stripe_sandbox)
    connect.seller_balance(user=seller)
    seller.refresh_from_db()
    assert seller.stripe_balance_negative
    [dispute] = stripe_sandbox.events(type="charge.dispute.created")
    stripe_sandbox.resolve_dispute(dispute["data"]["object"]["id"], "won")  # no webhook delivered

    out = io.StringIO()
    call_command("refresh_seller_balances", stdout=out)

    seller.refresh_from_db()
    assert not seller.stripe_balance_negative and seller.can_accept_payments
    assert "Read 1 balance(s): 0 negative" in out.getvalue()


def test_a_lost_dispute_blocks_the_seller_and_tells_staff_without_any_balance_available(
        stripe_sandbox, webhooks):
    UserFactory(is_staff=True, email="staff@example.com")
    seller = disputed_seller(stripe_sandbox)
    [dispute] = stripe_sandbox.events(type="charge.dispute.created")
    stripe_sandbox.resolve_dispute(dispute["data"]["object"]["id"], "lost")

    assert webhooks() == []

    assert stripe_sandbox.events(type="balance.available", account=seller.stripe_account_id) == []
    seller.refresh_from_db()
    assert seller.stripe_balance_negative and not seller.can_accept_payments
    assert AuditEvent.objects.filter(action="connect.balance_negative", subject_user=seller).count() == 1
    staff_mail = [m.subject for m in mail.outbox if "staff@example.com" in m.to]
    assert any("Negative Stripe balance" in subject for subject in staff_mail)


def test_the_hourly_read_finds_a_disputed_seller_whose_balance_could_not_be_read_at_the_time(
        stripe_sandbox, webhooks):
    from connect.tasks import refresh_seller_balances

    stripe_sandbox.fail_next("/v1/balance", times=30)  # Stripe's balance read is down meanwhile
    seller = disputed_seller(stripe_sandbox)
    assert webhooks() == []  # the dispute is recorded all the same
    seller.refresh_from_db()
    assert not seller.stripe_balance_negative
    stripe_sandbox.clear_faults()

    counts = refresh_seller_balances()

    seller.refresh_from_db()
    assert counts["negative"] == 1
    assert seller.stripe_balance_negative and not seller.can_accept_payments


def test_the_hourly_read_leaves_sellers_without_recent_refunds_or_disputes_alone(stripe_sandbox):
    from connect.tasks import refresh_seller_balances

    sandbox_seller_onboarded(stripe_sandbox)

    assert refresh_seller_balances() == {"read": 0, "negative": 0, "failed": 0}


def test_the_hourly_read_finds_a_seller_refunded_while_stripes_balance_read_was_down(
        stripe_sandbox, webhooks, settings):
    seller = sandbox_seller_onboarded(stripe_sandbox, email="seller@example.com")
    order = sandbox_order(stripe_sandbox, seller=seller)
    pay(order)
    assert webhooks() == []
    stripe_sandbox.fail_next("/v1/balance", times=30)  # the refund's re-read cannot happen
    refund_request(order_id=order.pk, actor=staff_member("Finance"))
    assert webhooks() == []
    stripe_sandbox.clear_faults()
    seller.refresh_from_db()
    stale_read_at = seller.stripe_balance_synced_at

    assert sellers_balance_refresh() == {"read": 1, "negative": 0, "failed": 0}
    seller.refresh_from_db()
    assert seller.stripe_balance_synced_at != stale_read_at

    later = timezone.now() + timedelta(days=settings.SELLER_BALANCE_WATCH_DAYS + 1)
    assert sellers_balance_refresh(now=later) == {"read": 0, "negative": 0, "failed": 0}
