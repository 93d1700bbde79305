"""Requirements beyond what is overdue, in Stripe's shape: current_deadline, eventually_due,
errors and future_requirements on the account and in account.updated, and Account Links whose
collection_options decide what the onboarding form collects (docs/sandbox.md)."""

import pytest
import stripe


def link_for(account_id: str, **collection_options):
    return stripe.AccountLink.create(
        account=account_id, type="account_onboarding", refresh_url="https://shop.test/refresh",
        return_url="https://shop.test/return",
        **({"collection_options": collection_options} if collection_options else {}))


def test_requirements_due_by_a_deadline_leave_the_account_enabled_and_reach_the_sdk(stripe_sandbox, seller):
    deadline = stripe_sandbox.now() + 7 * 86400

    stripe_sandbox.set_requirements(
        seller["id"], currently_due=["individual.id_number"],
        eventually_due=["individual.verification.document"], current_deadline=deadline,
        errors=[{"requirement": "individual.address.line1", "code": "invalid_address_po_boxes_disallowed",
                 "reason": "PO boxes are not accepted."}],
        future_requirements={"eventually_due": ["business_profile.support_phone"],
                             "current_deadline": deadline + 86400})

    account = stripe.Account.retrieve(seller["id"])
    assert (account.charges_enabled, account.payouts_enabled) == (True, True)
    requirements = account.requirements
    assert requirements.current_deadline == deadline
    assert requirements.disabled_reason is None
    # An error names a field that is due again; eventually_due always includes currently_due.
    assert requirements.currently_due == ["individual.id_number", "individual.address.line1"]
    assert requirements.eventually_due == [
        "individual.id_number", "individual.address.line1", "individual.verification.document"]
    assert requirements.errors[0].to_dict() == {
        "code": "invalid_address_po_boxes_disallowed", "reason": "PO boxes are not accepted.",
        "requirement": "individual.address.line1"}
    assert account.future_requirements.eventually_due == ["business_profile.support_phone"]
    assert account.future_requirements.current_deadline == deadline + 86400
    assert set(account.future_requirements.to_dict()) == set(requirements.to_dict())


def test_account_updated_carries_the_new_requirements_and_what_they_were(stripe_sandbox, seller):
    stripe_sandbox.set_requirements(
        seller["id"], eventually_due=["individual.verification.document"],
        future_requirements={"currently_due": ["business_profile.support_phone"]})

    data = stripe_sandbox.events("account.updated", account=seller["id"])[-1]["data"]
    assert data["object"]["requirements"]["eventually_due"] == ["individual.verification.document"]
    assert data["object"]["future_requirements"]["currently_due"] == ["business_profile.support_phone"]
    assert data["previous_attributes"]["requirements"]["eventually_due"] == []
    assert data["previous_attributes"]["future_requirements"]["currently_due"] == []


def test_a_default_onboarding_link_collects_only_what_is_currently_due(stripe_sandbox, seller):
    stripe_sandbox.set_requirements(
        seller["id"], currently_due=["individual.id_number"],
        eventually_due=["individual.verification.document"],
        future_requirements={"currently_due": ["business_profile.support_phone"]})
    link = link_for(seller["id"])

    stripe_sandbox.request("POST", link.url, {"first_name": "Ada", "last_name": "Lovelace"})

    account = stripe.Account.retrieve(seller["id"])
    assert account.requirements.currently_due == []
    assert account.requirements.eventually_due == ["individual.verification.document"]
    assert account.future_requirements.currently_due == ["business_profile.support_phone"]


def test_a_link_for_eventually_due_and_future_requirements_collects_them_all(stripe_sandbox, seller):
    stripe_sandbox.set_requirements(
        seller["id"], eventually_due=["individual.verification.document"],
        future_requirements={"currently_due": ["business_profile.support_phone"]})
    link = link_for(seller["id"], fields="eventually_due", future_requirements="include")

    stripe_sandbox.request("POST", link.url, {"first_name": "Ada", "last_name": "Lovelace"})

    account = stripe.Account.retrieve(seller["id"])
    assert account.requirements.eventually_due == []
    assert account.future_requirements.currently_due == []


@pytest.mark.parametrize("options", [{"fields": "everything"}, {"future_requirements": "yes"}])
def test_an_account_link_refuses_collection_options_stripe_does_not_know(stripe_sandbox, seller, options):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        link_for(seller["id"], **options)

    assert "collection_options" in raised.value.param
