"""`account.updated` links or enables a seller only from the account object
Stripe itself returns. A validly signed event (the secret leaked, or a replayed old copy) that
describes an account Stripe does not have, or describes it better than it is, changes nobody."""

import pytest

from accounts.models import StripeAccountStatus
from accounts.tests.factories import NewSellerFactory
from connect import services as connect
from payments.models import AuditEvent
from payments.tests.webhook_support import CONNECT_PATH, PLATFORM_PATH, make_event, post_event

pytestmark = pytest.mark.django_db


def enabled_account(account_id, **metadata):
    """The event copy an attacker would write: everything a seller needs, switched on."""
    return {
        "id": account_id, "object": "account", "type": "express", "country": "US",
        "charges_enabled": True, "payouts_enabled": True, "details_submitted": True,
        "requirements": {"currently_due": [], "past_due": [], "eventually_due": [],
                         "disabled_reason": None},
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "metadata": metadata,
    }


@pytest.mark.parametrize("path", [CONNECT_PATH, PLATFORM_PATH])
def test_a_forged_account_updated_for_an_account_stripe_does_not_have_links_nobody(
    client, stripe_sandbox, path
):
    seller = NewSellerFactory(is_seller=True, stripe_account_id="")
    forged = enabled_account("acct_forged000000001", user_id=str(seller.pk), username=seller.username)

    response = post_event(client, make_event("account.updated", forged, account=forged["id"]), path=path)

    assert response.status_code == 200  # recorded; Stripe need not retry
    seller.refresh_from_db()
    assert seller.stripe_account_id == ""
    assert not seller.can_accept_payments
    assert not AuditEvent.objects.filter(action="connect.account_linked").exists()
    # Refused where Stripe said it has no such account (dj-stripe's re-read or ours).
    assert AuditEvent.objects.filter(action__in=["connect.account_unknown", "webhook.not_applied"]).exists()


def test_an_event_copy_saying_enabled_does_not_enable_a_seller_stripe_has_not_enabled(
    client, stripe_sandbox
):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)  # a real sandbox account, onboarding not done
    seller.refresh_from_db()
    flattering = enabled_account(seller.stripe_account_id)

    response = post_event(
        client, make_event("account.updated", flattering, account=seller.stripe_account_id),
        path=CONNECT_PATH,
    )

    assert response.status_code == 200
    seller.refresh_from_db()
    assert seller.stripe_account_status != StripeAccountStatus.ENABLED
    assert not seller.stripe_onboarding_completed and not seller.can_accept_payments


def test_the_account_stripe_returns_is_what_counts(
    client, stripe_sandbox, django_capture_on_commit_callbacks
):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    seller.refresh_from_db()
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    stale = {**enabled_account(seller.stripe_account_id), "charges_enabled": False,
             "details_submitted": False}  # an old copy of the event, delivered late

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(
            client, make_event("account.updated", stale, account=seller.stripe_account_id),
            path=CONNECT_PATH,
        )

    assert response.status_code == 200
    seller.refresh_from_db()
    assert seller.stripe_onboarding_completed and seller.can_accept_payments


def test_stripe_not_answering_leaves_the_seller_as_it_was_for_a_retry(client, stripe_sandbox):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    seller.refresh_from_db()
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    stripe_sandbox.fail_next(f"/v1/accounts/{seller.stripe_account_id}", times=100, method="GET", status=500)

    response = post_event(
        client, make_event("account.updated", enabled_account(seller.stripe_account_id),
                           account=seller.stripe_account_id),
        path=CONNECT_PATH,
    )

    assert response.status_code in (200, 500)  # received; applying it failed and is retried
    seller.refresh_from_db()
    assert not seller.can_accept_payments  # the event's copy was not used meanwhile
    assert not AuditEvent.objects.filter(action="connect.account_unknown").exists()


def test_the_handler_itself_never_falls_back_to_the_events_copy(stripe_sandbox):
    """Whatever dj-stripe did before it (mirrored the account or not), our handler reads the
    account from Stripe: an account Stripe does not have links and enables nobody."""
    from djstripe.models import Event

    from payments.services.webhooks import webhook_dispatch

    seller = NewSellerFactory(is_seller=True, stripe_account_id="")
    forged = enabled_account("acct_forged000000002", user_id=str(seller.pk), username=seller.username)
    event = Event(id="evt_forged_handler", type="account.updated", data={"object": forged})

    webhook_dispatch(sender=Event, event=event)

    seller.refresh_from_db()
    assert seller.stripe_account_id == "" and not seller.can_accept_payments
    assert AuditEvent.objects.filter(
        action="connect.account_unknown", data__stripe_account="acct_forged000000002"
    ).exists()
