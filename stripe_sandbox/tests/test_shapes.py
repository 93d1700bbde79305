"""Every object the sandbox returns has the keys and JSON types of Stripe's own example.

The reference is ``/work/shared/stripe/fixtures3.json`` (stripe/openapi's fixtures, the ones
stripe-mock answers with), or ``$STRIPE_FIXTURES``; the test is skipped when it is absent.
Rules: the same top-level keys (plus the few documented extras below); each value has the
fixture's JSON type, except that a fixture ``null`` allows any type and ``null`` is allowed
for the fields Stripe documents as nullable (listed below).
"""

import json
import os
from pathlib import Path

import pytest
import stripe

from .conftest import pay

FIXTURES = Path(os.environ.get("STRIPE_FIXTURES", "/work/shared/stripe/fixtures3.json"))

# Keys Stripe adds beyond the example object in the situations the sandbox models.
EXTRA_KEYS = {
    "webhook_endpoint": {"secret"},  # only in the answer to the create call
    "event": {"account"},  # Connect events
}

# Fields that Stripe's API reference marks "nullable" and the sandbox leaves null.
NULLABLE = {
    "payment_intent": {"canceled_at", "last_payment_error", "next_action", "processing",
                       "payment_method_configuration_details", "transfer_data", "shipping",
                       "automatic_payment_methods"},
    "charge": {"balance_transaction", "description", "receipt_url", "source", "transfer_data",
               "shipping"},
    "account": {"email"},
    "webhook_endpoint": {"description"},
    "balance_transaction": {"description"},
}


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_problems(resource, obj, reference):
    expected = reference[resource]
    problems = []
    missing = set(expected) - set(obj)
    extra = set(obj) - set(expected) - EXTRA_KEYS.get(resource, set())
    if missing:
        problems.append(f"{resource}: missing keys {sorted(missing)}")
    if extra:
        problems.append(f"{resource}: unexpected keys {sorted(extra)}")
    for key in set(expected) & set(obj):
        want, got = json_type(expected[key]), json_type(obj[key])
        if want == "null" or want == got:
            continue
        if got == "null" and key in NULLABLE.get(resource, set()):
            continue
        problems.append(f"{resource}.{key}: {got}, Stripe's example has {want}")
    return problems


@pytest.fixture(scope="module")
def reference():
    if not FIXTURES.exists():
        pytest.skip(f"{FIXTURES} not found")
    return json.loads(FIXTURES.read_text())["resources"]


def collect_objects(sandbox, seller):
    """One of each object, in the states the sandbox produces, straight from the API."""
    objects = []

    def add(resource, obj):
        objects.append((resource, obj.to_dict() if hasattr(obj, "to_dict")
                        else json.loads(json.dumps(obj))))

    account = stripe.Account.create(type="express", country="US",
                                    capabilities={"card_payments": {"requested": True}})
    add("account", account)
    add("account", stripe.Account.retrieve())
    add("account", stripe.Account.retrieve(seller["id"]))
    add("account_link", stripe.AccountLink.create(
        account=account.id, type="account_onboarding", refresh_url="https://x.test/r",
        return_url="https://x.test/ok"))
    add("login_link", stripe.Account.create_login_link(seller["id"]))
    created = stripe.PaymentIntent.create(amount=5000, currency="usd",
                                          application_fee_amount=500,
                                          stripe_account=seller["id"])
    add("payment_intent", created)
    paid = pay(seller["id"])
    add("payment_intent", paid)
    add("payment_intent", pay(seller["id"], payment_method="pm_card_authenticationRequired",
                              return_url="https://x.test/back"))
    add("payment_intent", stripe.PaymentIntent.cancel(created.id, stripe_account=seller["id"]))
    declined = stripe.PaymentIntent.create(amount=5000, currency="usd",
                                           stripe_account=seller["id"])
    with pytest.raises(stripe.CardError):
        stripe.PaymentIntent.confirm(declined.id, payment_method="pm_card_chargeDeclined",
                                     stripe_account=seller["id"])
    declined = stripe.PaymentIntent.retrieve(declined.id, stripe_account=seller["id"])
    add("payment_intent", declined)
    add("charge", stripe.Charge.retrieve(declined.latest_charge, stripe_account=seller["id"]))
    refund = stripe.Refund.create(payment_intent=paid.id, amount=1000,
                                  refund_application_fee=True, stripe_account=seller["id"])
    add("refund", refund)
    charge = stripe.Charge.retrieve(paid.latest_charge, stripe_account=seller["id"])
    add("charge", charge)
    fee = stripe.ApplicationFee.retrieve(charge.application_fee)
    add("application_fee", fee)
    add("fee_refund", fee.refunds.data[0])
    add("balance_transaction", stripe.BalanceTransaction.retrieve(
        charge.balance_transaction, stripe_account=seller["id"]))
    add("balance_transaction", stripe.BalanceTransaction.retrieve(fee.balance_transaction))
    add("balance", stripe.Balance.retrieve(stripe_account=seller["id"]))
    add("balance", stripe.Balance.retrieve())
    add("payment_method", stripe.PaymentMethod.retrieve(charge.payment_method,
                                                        stripe_account=seller["id"]))
    disputed = pay(seller["id"], payment_method="pm_card_disputed")
    dispute = stripe.Dispute.list(stripe_account=seller["id"], payment_intent=disputed.id).data[0]
    add("dispute", dispute)
    add("dispute", stripe.Dispute.modify(dispute.id, evidence={"uncategorized_text": "x"},
                                         stripe_account=seller["id"]))
    add("dispute", stripe.Dispute.close(dispute.id, stripe_account=seller["id"]))
    endpoint = stripe.WebhookEndpoint.create(url="https://x.test/hook", enabled_events=["*"])
    add("webhook_endpoint", endpoint)
    add("webhook_endpoint", stripe.WebhookEndpoint.retrieve(endpoint.id))
    for event in stripe.Event.list(stripe_account=seller["id"], limit=100).data:
        add("event", event)
    for event in stripe.Event.list(limit=100).data:
        add("event", event)
    for event in stripe.Event.list(stripe_account=seller["id"], limit=100).data:
        add(event.data.object.object, event.data.object)
    return objects


def test_every_object_matches_stripes_example_shape(stripe_sandbox, seller, reference):
    objects = collect_objects(stripe_sandbox, seller)
    kinds = {resource for resource, _ in objects}
    assert kinds >= {"account", "account_link", "login_link", "balance", "payment_intent",
                     "charge", "refund", "application_fee", "fee_refund", "dispute", "event",
                     "webhook_endpoint", "balance_transaction", "payment_method"}
    problems = sorted({p for resource, obj in objects
                       for p in shape_problems(resource, obj, reference)})
    assert problems == []
