"""Object shapes and ids.

Every object starts as a deep copy of Stripe's own example for its resource
(``fixtures/stripe_objects.json``, taken from stripe/openapi ``fixtures3.json``), so the keys
and JSON types match what Stripe returns; the sandbox then overwrites the values it models.
The example values that would be misleading in a sandbox (ids of other objects, URLs on
stripe.com, "link" wallets, ...) are reset in ``_NEUTRAL_VALUES``.
"""

from __future__ import annotations

import copy
import functools
import json
import pickle
import secrets
import string
from pathlib import Path
from typing import Any

FIXTURES_PATH = Path(__file__).parent / "fixtures" / "stripe_objects.json"
_FIXTURES: dict[str, dict] = json.loads(FIXTURES_PATH.read_text())

_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_secret(length: int = 32) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


_EMPTY_REQUIREMENTS = {
    "alternatives": [], "current_deadline": None, "currently_due": [], "disabled_reason": None,
    "errors": [], "eventually_due": [], "past_due": [], "pending_verification": [],
}

_NEUTRAL_VALUES: dict[str, dict[str, Any]] = {
    "account": {
        "email": None, "type": "express", "capabilities": {}, "metadata": {},
        "requirements": copy.deepcopy(_EMPTY_REQUIREMENTS),
        "future_requirements": copy.deepcopy(_EMPTY_REQUIREMENTS),
    },
    "payment_intent": {
        "canceled_at": None, "last_payment_error": None, "next_action": None, "processing": None,
        "payment_method_configuration_details": None, "transfer_data": None, "shipping": None,
        "managed_payments": {"enabled": False}, "automatic_payment_methods": None,
        "amount_details": {"tip": {}},
    },
    "charge": {
        "billing_details": {
            "address": {"city": None, "country": None, "line1": None, "line2": None,
                        "postal_code": None, "state": None},
            "email": None, "name": None, "phone": None, "tax_id": None,
        },
        "description": None, "source": None, "transfer_data": None, "shipping": None,
        "receipt_url": None, "balance_transaction": None, "payment_method": None,
    },
    "refund": {"destination_details": {"card": {"type": "refund"}, "type": "card"}},
    "application_fee": {"application": "ca_sandbox", "originating_transaction": None},
    "fee_refund": {},
    "dispute": {"enhanced_eligibility_types": [], "payment_method_details": None},
    "event": {"api_version": "2026-08-26.dahlia", "request": {"id": None, "idempotency_key": None}},
    "webhook_endpoint": {"description": None, "application": None},
    "balance_transaction": {"description": None, "fee_details": []},
    "payment_method": {
        "billing_details": {
            "address": {"city": None, "country": None, "line1": None, "line2": None,
                        "postal_code": None, "state": None},
            "email": None, "name": None, "phone": None, "tax_id": None,
        },
        "metadata": {},
    },
    "bank_account": {"account_holder_name": None, "account_holder_type": None},
}


@functools.cache
def _template(resource: str) -> bytes:
    """The fixture with its neutral values, pickled once: unpickling makes a fresh deep copy
    several times faster than copy.deepcopy, and every object the sandbox creates starts here."""
    return pickle.dumps({**_FIXTURES[resource], **_NEUTRAL_VALUES.get(resource, {})},
                        protocol=pickle.HIGHEST_PROTOCOL)


def from_fixture(resource: str, **values: Any) -> dict[str, Any]:
    """A fresh object of ``resource`` with Stripe's full key set and the given values."""
    obj = pickle.loads(_template(resource))
    obj.update(values)
    if "livemode" in obj:
        obj["livemode"] = False
    return obj


def fixture_keys(resource: str) -> set[str]:
    return set(_FIXTURES[resource])


def empty_list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "url": url}


# Test cards as Stripe documents them (https://docs.stripe.com/testing). "behaviour" tells
# the payment flow what to do with a confirmation that uses the card.
TEST_CARDS: dict[str, dict[str, Any]] = {
    "4242424242424242": {"brand": "visa", "funding": "credit", "behaviour": "succeed"},
    "4000056655665556": {"brand": "visa", "funding": "debit", "behaviour": "succeed"},
    "5555555555554444": {"brand": "mastercard", "funding": "credit", "behaviour": "succeed"},
    "378282246310005": {"brand": "amex", "funding": "credit", "behaviour": "succeed"},
    "4000000000000002": {"brand": "visa", "funding": "credit", "behaviour": "decline",
                         "code": "card_declined", "decline_code": "generic_decline",
                         "message": "Your card was declined."},
    "4000000000009995": {"brand": "visa", "funding": "credit", "behaviour": "decline",
                         "code": "card_declined", "decline_code": "insufficient_funds",
                         "message": "Your card has insufficient funds."},
    "4000000000000069": {"brand": "visa", "funding": "credit", "behaviour": "decline",
                         "code": "expired_card", "decline_code": "expired_card",
                         "message": "Your card has expired."},
    "4000000000000127": {"brand": "visa", "funding": "credit", "behaviour": "decline",
                         "code": "incorrect_cvc", "decline_code": "incorrect_cvc",
                         "message": "Your card's security code is incorrect."},
    "4000002500003155": {"brand": "visa", "funding": "credit", "behaviour": "authenticate"},
    "4000002760003184": {"brand": "visa", "funding": "credit", "behaviour": "authenticate"},
    "4000000000000259": {"brand": "visa", "funding": "credit", "behaviour": "dispute"},
    # Stripe's other dispute test cards (https://docs.stripe.com/testing#disputes).
    "4000000000002685": {"brand": "visa", "funding": "credit", "behaviour": "dispute",
                         "dispute_reason": "product_not_received"},
    "4000000000001976": {"brand": "visa", "funding": "credit", "behaviour": "dispute",
                         "dispute_inquiry": True},
    # Succeeds, then receives an early fraud warning (stripe_sandbox/resources/radar.py).
    "4000000000005423": {"brand": "visa", "funding": "credit", "behaviour": "succeed",
                         "early_fraud_warning": True},
    # Refunds (https://docs.stripe.com/testing#refunds): the charge succeeds; a refund starts
    # `pending` and later succeeds, or starts `succeeded` and later fails
    # (failure_reason expired_or_canceled_card). "Later" is the sandbox's settle step.
    "4000000000007726": {"brand": "visa", "funding": "credit", "behaviour": "succeed",
                         "refund": "pending"},
    "4000000000005126": {"brand": "visa", "funding": "credit", "behaviour": "succeed",
                         "refund": "fail"},
}

# Stripe's "magic" PaymentMethod ids for tests, mapped onto the card numbers above.
TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_threeDSecure2Required": "4000002500003155",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_createDispute": "4000000000000259",
    "pm_card_createDisputeProductDescription": "4000000000000259",
    "pm_card_disputed": "4000000000000259",
    "pm_card_createDisputeProductNotReceived": "4000000000002685",
    "pm_card_createDisputeInquiry": "4000000000001976",
    "pm_card_createIssuerFraudRecord": "4000000000005423",
    "pm_card_pendingRefund": "4000000000007726",
    "pm_card_refundFail": "4000000000005126",
}


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_details(number: str) -> dict[str, Any]:
    """What the sandbox knows about a card number (unknown valid numbers simply succeed)."""
    known = TEST_CARDS.get(number)
    if known:
        return dict(known)
    brand = "visa" if number.startswith("4") else "mastercard" if number[:1] in "25" else "unknown"
    return {"brand": brand, "funding": "credit", "behaviour": "succeed"}
