"""The pure Connect rules: status mapping, payout delay minimums, requirements in plain words."""

import pytest

from connect.services import (
    AccountState,
    account_status_from,
    disabled_reason_in_plain_words,
    payout_delay_days_for,
    requirement_in_plain_words,
    requirements_in_plain_words,
)


def account(**overrides):
    base = {
        "id": "acct_1",
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "requirements": {"currently_due": [], "past_due": [], "disabled_reason": None},
    }
    requirements = overrides.pop("requirements", {})
    return {**base, **overrides, "requirements": {**base["requirements"], **requirements}}


def test_a_brand_new_account_is_pending_even_though_stripe_marks_it_past_due():
    new = account(
        requirements={
            "currently_due": ["external_account"],
            "past_due": ["external_account"],
            "disabled_reason": "requirements.past_due",
        }
    )
    assert account_status_from(new) == "pending"


def test_charges_and_payouts_enabled_with_nothing_past_due_is_enabled():
    assert (
        account_status_from(account(charges_enabled=True, payouts_enabled=True, details_submitted=True))
        == "enabled"
    )


def test_enabled_with_something_only_currently_due_stays_enabled():
    soon = account(
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        requirements={"currently_due": ["individual.id_number"]},
    )
    assert account_status_from(soon) == "enabled"


def test_submitted_but_payouts_disabled_is_restricted():
    assert account_status_from(account(charges_enabled=True, details_submitted=True)) == "restricted"


def test_submitted_with_past_due_and_charges_disabled_is_disabled():
    overdue = account(
        details_submitted=True,
        requirements={
            "past_due": ["individual.verification.document"],
            "disabled_reason": "requirements.past_due",
        },
    )
    assert account_status_from(overdue) == "disabled"


def test_past_due_while_charges_still_enabled_is_restricted_not_enabled():
    overdue = account(
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        requirements={"past_due": ["external_account"]},
    )
    assert account_status_from(overdue) == "restricted"


@pytest.mark.parametrize(
    "reason", ["rejected.fraud", "rejected.terms_of_service", "listed", "platform_paused"]
)
def test_a_rejected_or_paused_account_is_disabled_whatever_else_it_says(reason):
    assert (
        account_status_from(account(details_submitted=False, requirements={"disabled_reason": reason}))
        == "disabled"
    )


def test_account_state_joins_currently_due_and_past_due_without_duplicates():
    state = AccountState.from_account(
        account(
            details_submitted=True,
            requirements={
                "currently_due": ["individual.dob.day", "external_account"],
                "past_due": ["external_account", "tos_acceptance.date"],
                "disabled_reason": "requirements.past_due",
            },
        )
    )
    assert state.requirements_due == ["individual.dob.day", "external_account", "tos_acceptance.date"]
    assert state.requirements_past_due == ["external_account", "tos_acceptance.date"]
    assert state.disabled_reason == "requirements.past_due"
    assert state.capabilities_enabled is False
    assert state.details_submitted is True


def test_capabilities_enabled_needs_both_charges_and_payouts():
    assert not AccountState.from_account(account(charges_enabled=True)).capabilities_enabled
    assert AccountState.from_account(account(charges_enabled=True, payouts_enabled=True)).capabilities_enabled


@pytest.mark.parametrize(
    ("country", "requested", "expected"),
    [
        ("US", 1, 2),  # never below the US minimum of 2 days
        ("US", 7, 7),
        ("us", 0, 2),
        ("GB", 2, 3),
        ("DE", 3, 7),
        ("JP", 10, 10),
        ("XX", 7, "minimum"),  # unknown country: Stripe's own minimum
        ("", 7, "minimum"),
    ],
)
def test_payout_delay_is_the_setting_but_never_below_the_country_minimum(country, requested, expected):
    assert payout_delay_days_for(country=country, requested_days=requested) == expected


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("individual.dob.day", "Your date of birth"),
        ("external_account", "A bank account or debit card for payouts"),
        ("tos_acceptance.date", "Acceptance of Stripe's terms of service"),
        ("business_profile.url", "Your website or a description of what you sell"),
        ("individual.verification.document", "A photo of your ID document"),
        ("company.address.city", "Your business address"),
        ("representative.first_name", "Your first name"),
        ("person_1AbC.address.line1", "Your address"),
    ],
)
def test_stripe_requirement_keys_read_as_plain_english(key, words):
    assert requirement_in_plain_words(key) == words


def test_an_unknown_requirement_key_falls_back_to_readable_words():
    assert requirement_in_plain_words("individual.some_new_thing") == "Some new thing"


def test_date_of_birth_parts_are_listed_once():
    keys = ["individual.dob.day", "individual.dob.month", "individual.dob.year", "external_account"]
    assert requirements_in_plain_words(keys) == [
        "Your date of birth",
        "A bank account or debit card for payouts",
    ]


def test_disabled_reasons_read_as_plain_english():
    assert "overdue" in disabled_reason_in_plain_words("requirements.past_due")
    assert "closed" in disabled_reason_in_plain_words("rejected.something_new")
    assert disabled_reason_in_plain_words("") == ""
    assert disabled_reason_in_plain_words("who.knows")


def test_a_disconnected_account_reads_as_such_in_plain_words():
    from connect.services import disabled_reason_in_plain_words

    assert "no longer connected" in disabled_reason_in_plain_words("platform_disconnected")
