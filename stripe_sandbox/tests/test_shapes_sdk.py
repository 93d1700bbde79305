"""Every object the sandbox returns, checked against a second reference: the resource classes
of the pinned stripe-python (15.x, API 2026-08-26.dahlia).

- every field the sandbox sends is one the SDK class declares (nested objects against their
  nested classes, expanded objects against their own resource class): the sandbox never invents
  a field Stripe does not have;
- a string field whose declared type lists `Literal` values (statuses, types, reasons, ...)
  holds one of them: the sandbox never invents a status;
- the fields the app reads are present (APP_READS).

The first reference, Stripe's example objects, is test_shapes.py.
"""

from __future__ import annotations

import typing

import pytest
import stripe
from stripe import StripeObject

from .test_shapes import collect_objects

RESOURCE_CLASSES = {
    "account": stripe.Account, "account_link": stripe.AccountLink, "login_link": stripe.LoginLink,
    "balance": stripe.Balance, "payment_intent": stripe.PaymentIntent, "charge": stripe.Charge,
    "refund": stripe.Refund, "application_fee": stripe.ApplicationFee,
    "fee_refund": stripe.ApplicationFeeRefund, "dispute": stripe.Dispute, "event": stripe.Event,
    "webhook_endpoint": stripe.WebhookEndpoint, "balance_transaction": stripe.BalanceTransaction,
    "payment_method": stripe.PaymentMethod, "application": stripe.Application,
}

# What the app reads from each object (payments/, accounts/, dj-stripe's mirror): the sandbox
# must send these. Dotted paths go into nested objects.
APP_READS = {
    "account": ["id", "country", "charges_enabled", "payouts_enabled", "details_submitted", "metadata",
                "requirements.currently_due", "requirements.past_due", "requirements.disabled_reason",
                "controller.losses.payments", "settings.payouts.schedule.delay_days",
                "settings.payouts.schedule.interval", "default_currency"],
    "payment_intent": ["id", "status", "amount", "currency", "application_fee_amount", "latest_charge",
                       "metadata", "client_secret", "last_payment_error", "next_action", "livemode"],
    "charge": ["id", "amount", "amount_refunded", "refunded", "refunds", "balance_transaction",
               "application_fee", "application_fee_amount", "payment_intent", "status", "disputed"],
    "refund": ["id", "amount", "status", "metadata", "charge", "payment_intent", "reason"],
    "dispute": ["id", "amount", "status", "reason", "charge", "evidence_details.due_by", "evidence",
                "balance_transactions"],
    "balance": ["available", "pending"],
    "event": ["id", "type", "livemode", "data.object", "created", "request"],
    "application_fee": ["id", "amount", "amount_refunded", "refunds"],
}


def declared_fields(cls) -> dict[str, typing.Any]:
    fields: dict[str, typing.Any] = {}
    for klass in reversed(cls.__mro__):
        if klass in (StripeObject, dict, object):
            continue
        for name, annotation in (getattr(klass, "__annotations__", None) or {}).items():
            if not name.startswith("_") and name != "OBJECT_NAME":
                fields[name] = annotation
    return fields


def _walk(annotation):
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _walk(arg)


def literal_values(annotation) -> set:
    values = set()
    for part in _walk(annotation):
        if typing.get_origin(part) is typing.Literal:
            values.update(typing.get_args(part))
    return values


def object_classes(annotation) -> list[type]:
    return [part for part in _walk(annotation)
            if isinstance(part, type) and issubclass(part, StripeObject)]


def shape_problems(cls, obj, path: str) -> list[str]:
    problems = []
    fields = declared_fields(cls)
    for key, value in obj.items():
        where = f"{path}.{key}"
        if key not in fields:
            problems.append(f"{where}: not a field of {cls.__qualname__}")
            continue
        annotation = fields[key]
        allowed = literal_values(annotation)
        if allowed and isinstance(value, str) and value not in allowed:
            problems.append(f"{where}: {value!r} is not one of {sorted(allowed)}")
        classes = object_classes(annotation)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict) or not classes:
                continue
            if item.get("object") == "list" and "data" in item:
                continue  # a list object (refunds, external_accounts): its items are checked on their own
            target = next((c for c in classes if getattr(c, "OBJECT_NAME", None) == item.get("object")),
                          classes[0])
            problems.extend(shape_problems(target, item, where))
    return problems


# Stripe-python declares Refund.status as a plain string; the API reference lists the values
# (https://docs.stripe.com/api/refunds/object#refund_object-status).
REFUND_STATUSES = {"pending", "requires_action", "succeeded", "failed", "canceled"}


def missing_reads(obj, paths) -> list[str]:
    if obj.get("object") == "account" and (obj.get("controller") or {}).get("type") == "account":
        # The platform's own account controls itself: no losses or fees of a connected account.
        paths = [path for path in paths if not path.startswith("controller.")]
    missing = []
    for path in paths:
        node = obj
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                missing.append(path)
                break
            node = node[part]
    return missing


def deauthorized_objects(sandbox):
    account = stripe.Account.create(type="express", country="US")
    stripe.Account.delete(account.id)
    return [("event", e) for e in sandbox.events(type="account.application.deauthorized")] + [
        ("application", e["data"]["object"]) for e in sandbox.events(type="account.application.deauthorized")]


@pytest.fixture
def objects(stripe_sandbox, seller):
    found = collect_objects(stripe_sandbox, seller)
    found += deauthorized_objects(stripe_sandbox)
    pay_disputed = stripe.PaymentIntent.create(
        amount=5000, currency="usd", application_fee_amount=500, payment_method_types=["card"],
        payment_method="pm_card_disputed", confirm=True, stripe_account=seller["id"])
    assert pay_disputed.status == "succeeded"
    found += [("event", e) for e in stripe_sandbox.events(type="balance.available")]
    found += [("balance", e["data"]["object"]) for e in stripe_sandbox.events(type="balance.available")]
    return found


def test_every_field_the_sandbox_sends_is_declared_by_stripe_python_with_a_known_value(objects):
    kinds = {resource for resource, _ in objects}
    assert kinds >= {"account", "payment_intent", "charge", "refund", "dispute", "event", "balance",
                     "application"}
    problems = sorted({problem for resource, obj in objects
                       for problem in shape_problems(RESOURCE_CLASSES[resource], obj, resource)})
    problems += [f"refund.status: {obj['status']!r}" for resource, obj in objects
                 if resource == "refund" and obj["status"] not in REFUND_STATUSES]
    assert problems == []


def test_the_checker_catches_an_invented_status_and_an_invented_field():
    assert shape_problems(stripe.PaymentIntent, {"status": "paid"}, "payment_intent") == [
        "payment_intent.status: 'paid' is not one of ['canceled', 'processing', 'requires_action', "
        "'requires_capture', 'requires_confirmation', 'requires_payment_method', 'succeeded']"]
    assert shape_problems(stripe.Account, {"controller": {"losses": {"payments": "platform"}}}, "account")
    assert shape_problems(stripe.Charge, {"paid_out": True}, "charge") == [
        "charge.paid_out: not a field of Charge"]


def test_the_fields_the_app_reads_are_always_sent(objects):
    problems = sorted({f"{resource}: {path}" for resource, obj in objects
                       for path in missing_reads(obj, APP_READS.get(resource, []))})
    assert problems == []


@pytest.mark.parametrize(("cls", "field", "expected"), [
    (stripe.PaymentIntent, "status", {"requires_payment_method", "requires_confirmation", "requires_action",
                                      "processing", "requires_capture", "canceled", "succeeded"}),
    (stripe.Dispute, "status", {"warning_needs_response", "warning_under_review", "warning_closed",
                                "needs_response", "under_review", "won", "lost", "prevented"}),
])
def test_the_status_sets_come_from_the_installed_sdk(cls, field, expected):
    """Guards the reference itself: a stripe-python upgrade that changes a status set shows here."""
    assert literal_values(declared_fields(cls)[field]) == expected
