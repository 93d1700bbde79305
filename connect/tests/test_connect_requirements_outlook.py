"""What Stripe will need from a seller who can still sell: requirements.current_deadline,
eventually_due, errors and future_requirements, stored from account.updated (delivered signed
through the real /payments/webhook/connect/ view) and shown on the seller dashboard with a
button to a fresh onboarding link."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.tests.factories import NewSellerFactory
from connect import services as connect
from connect.tests.support import dashboard_page

pytestmark = pytest.mark.django_db


UPDATE_BUTTON = "Update your details with Stripe"
PO_BOX_REASON = "A PO box cannot be used as your address. Give a street address."


def enabled_seller(stripe_sandbox, webhooks):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    assert webhooks() == []
    seller.refresh_from_db()
    assert seller.can_accept_payments
    return seller


def day(unix_time: int) -> str:
    return datetime.fromtimestamp(unix_time, tz=UTC).strftime("%-d %b %Y")


def test_an_enabled_seller_sees_stripes_deadline_later_needs_errors_and_rule_changes_with_a_button(
    stripe_sandbox, webhooks, client
):
    seller = enabled_seller(stripe_sandbox, webhooks)
    deadline = stripe_sandbox.now() + int(timedelta(days=14).total_seconds())
    future_deadline = stripe_sandbox.now() + int(timedelta(days=90).total_seconds())

    stripe_sandbox.set_requirements(
        seller.stripe_account_id,
        currently_due=["individual.id_number"],
        eventually_due=["individual.verification.document"],
        current_deadline=deadline,
        errors=[{"requirement": "individual.address.line1", "code": "invalid_address_po_boxes_disallowed",
                 "reason": PO_BOX_REASON}],
        future_requirements={"currently_due": ["business_profile.support_phone"],
                             "current_deadline": future_deadline},
    )
    assert webhooks() == []

    seller.refresh_from_db()
    assert seller.can_accept_payments
    assert seller.stripe_requirements_deadline == datetime.fromtimestamp(deadline, tz=UTC)
    assert seller.stripe_requirements_eventually_due == [
        "individual.id_number", "individual.address.line1", "individual.verification.document"]
    assert seller.stripe_requirements_errors == [{
        "requirement": "individual.address.line1", "code": "invalid_address_po_boxes_disallowed",
        "reason": PO_BOX_REASON}]
    assert seller.stripe_future_requirements_due == ["business_profile.support_phone"]
    assert seller.stripe_future_requirements_deadline == datetime.fromtimestamp(future_deadline, tz=UTC)

    page = dashboard_page(client, seller)
    assert "Payments enabled" in page
    assert "Stripe needs this by <strong><time datetime=" in page and day(deadline) in page
    assert "or your payments and payouts pause" in page
    assert "Your government ID number" in page
    assert "Stripe will also need this later" in page and "A photo of your ID document" in page
    assert f"Your address – {PO_BOX_REASON}" in page
    assert "Stripe's rules are changing" in page and day(future_deadline) in page
    assert "A support phone number" in page
    assert UPDATE_BUTTON in page
    assert 'action="/payments/connect/onboard/"' in page


def test_a_seller_with_nothing_due_sees_no_requirements_and_no_update_button(
    stripe_sandbox, webhooks, client
):
    seller = enabled_seller(stripe_sandbox, webhooks)

    page = dashboard_page(client, seller)

    assert "Payments enabled" in page
    assert "stripe-requirements" not in page
    assert "Stripe needs this" not in page
    assert UPDATE_BUTTON not in page


def test_each_error_is_shown_with_stripes_reason_for_it(stripe_sandbox, webhooks, client):
    seller = enabled_seller(stripe_sandbox, webhooks)

    stripe_sandbox.set_requirements(
        seller.stripe_account_id,
        errors=[
            {"requirement": "individual.verification.document", "code": "verification_document_expired",
             "reason": "The document has expired. Upload one that is still valid."},
            {"requirement": "external_account", "code": "invalid_value_other", "reason": ""},
        ],
    )
    assert webhooks() == []

    page = dashboard_page(client, seller)
    assert "Stripe could not accept some of your details" in page
    assert "A photo of your ID document – The document has expired. Upload one that is still valid." in page
    # Stripe's sandbox fills an empty reason with its generic one, as Stripe itself never sends none.
    assert "A bank account or debit card for payouts – The value provided is not valid." in page
    assert UPDATE_BUTTON in page


def test_the_update_button_sends_the_seller_to_a_link_that_collects_everything_stripe_will_need(
    stripe_sandbox, webhooks, client
):
    seller = enabled_seller(stripe_sandbox, webhooks)
    stripe_sandbox.set_requirements(
        seller.stripe_account_id, eventually_due=["individual.verification.document"],
        future_requirements={"currently_due": ["business_profile.support_phone"]},
    )
    assert webhooks() == []
    client.force_login(seller)

    response = client.post("/payments/connect/onboard/")

    assert response.status_code == 303
    link = response["Location"]
    assert link.startswith(stripe_sandbox.public_url + "/_sandbox/onboarding/")
    stripe_sandbox.request("GET", link)
    stripe_sandbox.request("POST", link, {"first_name": "Ada", "last_name": "Lovelace"})
    assert webhooks() == []
    seller.refresh_from_db()
    assert seller.stripe_requirements_eventually_due == []
    assert seller.stripe_future_requirements_due == []
    assert UPDATE_BUTTON not in dashboard_page(client, seller)


def test_a_seller_who_has_not_finished_onboarding_gets_stripes_default_link(stripe_sandbox, monkeypatch):
    seller = NewSellerFactory()
    seen = []
    real = connect.onboarding.stripe_api.account_link_create

    def spy(**kwargs):
        seen.append(kwargs.get("collection_options"))
        return real(**kwargs)

    monkeypatch.setattr(connect.onboarding.stripe_api, "account_link_create", spy)

    connect.seller_start_onboarding(user=seller)

    assert seen == [None]
