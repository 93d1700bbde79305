"""Duplicate account.updated deliveries at the same moment, on PostgreSQL (real row locks)."""

import pytest

from accounts.models import StripeAccountStatus
from accounts.tests.factories import NewSellerFactory
from connect import services as connect
from payments.models import AuditEvent
from testing.threads import run_at_once

pytestmark = pytest.mark.postgres

RACERS = 6


def test_the_same_account_updated_applied_by_six_workers_at_once_syncs_and_schedules_once(
    transactional_db, stripe_sandbox
):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    event = stripe_sandbox.events(type="account.updated", account=seller.stripe_account_id)[-1]
    def deliver():
        connect.seller_sync_account(account=event["data"]["object"], stripe_event_id=event["id"])

    failed = [repr(result) for result in run_at_once([deliver] * RACERS) if isinstance(result, Exception)]

    assert failed == []
    seller.refresh_from_db()
    assert seller.stripe_account_status == StripeAccountStatus.ENABLED
    assert AuditEvent.objects.filter(action="connect.account_synced", subject_user=seller).count() == 1
    assert AuditEvent.objects.filter(action="stripe.account.update").count() == 1
    assert AuditEvent.objects.filter(action=connect.PAYOUT_SCHEDULE_SET_ACTION).count() == 1
