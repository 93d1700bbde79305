"""What every area of the sandbox's Stripe API shares: constants, money rules, the base class.

Every handler takes a :class:`~stripe_sandbox.messages.Request` (params already decoded,
``scope`` = the account named by ``Stripe-Account`` or ``"platform"``) and returns the stored
object dict; the app turns it into JSON (removing private ``_`` keys, applying ``expand``).
Handlers run with the store lock held, so each one is atomic.

Money model (documented in docs/sandbox.md):
* a successful charge of A cents with application fee F on a connected account adds one
  balance transaction there: amount A, fee = Stripe's fee (2.9 % + 30 c) + F, net the rest,
  *pending* until ``available_on`` (created + the account's payout ``delay_days``);
  and one on the platform: the application fee F, pending for 2 days. An account made with
  ``controller.fees.payer=application`` pays no Stripe fee: Stripe's processing and dispute
  fees are ``stripe_fee`` transactions on the platform instead.
* refunds, fee refunds and disputes are debited (or credited) at once, as *available*.
* ``Sandbox.advance_time(seconds)`` moves the clock, which is how pending becomes available.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..errors import invalid_request, missing_resource
from ..forms import as_int
from ..messages import Request
from ..objects import (
    empty_list,
    from_fixture,
    new_id,
)
from ..store import PLATFORM, Store, public_view

CURRENCY = "usd"
MIN_AMOUNT = 50
MAX_AMOUNT = 99_999_999
DISPUTE_FEE = 1500
PLATFORM_FEE_DELAY_DAYS = 2
APPLICATION_ID = "ca_sandbox"
# How many items of a sub-list an object carries before its list endpoint is needed.
EMBEDDED_LIST_LIMIT = 10

# Stripe's minimum payout delay per country (days); "minimum" resolves to this.
PAYOUT_MINIMUM_DELAY_DAYS = {"US": 2, "GB": 3, "CA": 2, "AU": 2, "DE": 7, "FR": 7, "JP": 4,
                             "NZ": 4, "IE": 7, "ES": 7, "IT": 7, "NL": 7, "SG": 4}
DEFAULT_MINIMUM_DELAY_DAYS = 2
DEFAULT_CURRENCY_BY_COUNTRY = {"US": "usd", "GB": "gbp", "CA": "cad", "AU": "aud", "JP": "jpy",
                               "NZ": "nzd", "SG": "sgd"}
EURO_COUNTRIES = {"DE", "FR", "IE", "ES", "IT", "NL", "AT", "BE", "FI", "PT", "LU"}

# What a new Express account (individual) still has to provide, as Stripe lists it.
NEW_ACCOUNT_REQUIREMENTS = [
    "business_profile.mcc", "business_profile.url", "business_type", "external_account",
    "individual.address.city", "individual.address.line1", "individual.address.postal_code",
    "individual.address.state", "individual.dob.day", "individual.dob.month",
    "individual.dob.year", "individual.email", "individual.first_name",
    "individual.last_name", "individual.phone", "individual.ssn_last_4",
    "tos_acceptance.date", "tos_acceptance.ip",
]
# What stays due when onboarding is submitted with "leave requirements due".
INCOMPLETE_ONBOARDING_REQUIREMENTS = ["individual.id_number", "individual.verification.document"]

PAYMENT_INTENT_OPEN = ("requires_payment_method", "requires_confirmation", "requires_action")
DISPUTE_OPEN = ("warning_needs_response", "needs_response", "under_review", "warning_under_review")
DISPUTE_EVIDENCE_FIELDS = set(from_fixture("dispute")["evidence"])
# The evidence fields that take a file upload's id, not text
# (https://docs.stripe.com/api/disputes/update#update_dispute-evidence).
DISPUTE_EVIDENCE_FILE_FIELDS = frozenset({
    "cancellation_policy", "customer_communication", "customer_signature",
    "duplicate_charge_documentation", "receipt", "refund_policy", "service_documentation",
    "shipping_documentation", "uncategorized_file",
})

# Path segment -> the singular name Stripe uses in "No such ..." messages, for every object
# kind the sandbox stores.
KIND_BY_PREFIX = {
    "acct": "account", "pi": "payment_intent", "ch": "charge", "re": "refund",
    "fee": "application_fee", "fr": "fee_refund", "dp": "dispute", "evt": "event",
    "we": "webhook_endpoint", "txn": "balance_transaction", "pm": "payment_method",
    "ba": "bank_account", "issfr": "early_fraud_warning", "file": "file",
}


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def stripe_processing_fee(amount: int) -> int:
    return round_half_up(Decimal(amount) * Decimal("0.029")) + 30


def minimum_delay_days(country: str) -> int:
    return PAYOUT_MINIMUM_DELAY_DAYS.get(country.upper(), DEFAULT_MINIMUM_DELAY_DAYS)


def _requirements(currently_due: list[str], *, past_due: list[str] | None = None,
                  disabled_reason: str | None = None, eventually_due: list[str] | None = None,
                  current_deadline: int | None = None,
                  errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Stripe's `requirements` hash (also the shape of `future_requirements`): an error names a
    field that is currently due again, and eventually_due always includes currently_due
    (https://docs.stripe.com/api/accounts/object#account_object-requirements)."""
    errors = [{"code": e.get("code") or "invalid_value_other",
               "reason": e.get("reason") or "The value provided is not valid.",
               "requirement": e["requirement"]} for e in errors or []]
    currently_due = list(dict.fromkeys([*currently_due, *(e["requirement"] for e in errors)]))
    return {
        "alternatives": [], "current_deadline": current_deadline,
        "currently_due": currently_due, "disabled_reason": disabled_reason, "errors": errors,
        "eventually_due": list(dict.fromkeys([*currently_due, *(eventually_due or [])])),
        "past_due": list(past_due or []), "pending_verification": [],
    }


class ApiBase:
    """Lookups, rendering, events and pagination that every resource uses.

    ``on_event`` is called for every new event (the app queues its webhook deliveries).
    """

    def __init__(self, store: Store, public_url: Callable[[], str],
                 on_event: Callable[[dict], None]) -> None:
        self.store = store
        self.public_url = public_url
        self.on_event = on_event
        # {"id": "req_…", "idempotency_key": …} while an API request runs (see Sandbox).
        self.request_context: dict[str, Any] | None = None

    def now(self) -> int:
        return self.store.clock.now()

    # =====================================================================================
    # Lookups, rendering, events
    # =====================================================================================
    def find(self, kind: str, object_id: str, scope: str, *, param: str = "id") -> dict[str, Any]:
        obj = self.store.get(object_id, scope, kind)
        if obj is None:
            raise missing_resource(kind, object_id, param=param)
        return obj

    def find_anywhere(self, kind: str, object_id: str) -> dict[str, Any]:
        """For sandbox-only routes: the object whichever account owns it."""
        obj = self.store.get(object_id, None, kind)
        if obj is None:
            raise missing_resource(kind, object_id)
        return obj

    def render(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The public JSON of a stored object, with its live sub-lists filled in."""
        data = public_view(obj)
        kind = obj.get("object")
        if kind == "charge":
            refunds = [public_view(r) for r in self.store.all("refund", obj["_scope"])
                       if r["charge"] == obj["id"]]
            data["refunds"] = {**empty_list(f"/v1/charges/{obj['id']}/refunds"),
                               "data": refunds, "total_count": len(refunds)}
        elif kind == "application_fee":
            # The fee carries its 10 newest refunds; the list endpoint pages through the rest
            # (https://docs.stripe.com/api/application_fees/object#application_fee_object-refunds).
            refunds = [public_view(r) for r in self.store.all("fee_refund", obj["_scope"])
                       if r["fee"] == obj["id"]]
            data["refunds"] = {**empty_list(f"/v1/application_fees/{obj['id']}/refunds"),
                               "data": refunds[:EMBEDDED_LIST_LIMIT],
                               "has_more": len(refunds) > EMBEDDED_LIST_LIMIT,
                               "total_count": len(refunds)}
        elif kind == "account":
            accounts = [public_view(b) for b in obj.get("_external_accounts", [])]
            data["external_accounts"] = {
                **empty_list(f"/v1/accounts/{obj['id']}/external_accounts"),
                "data": accounts, "total_count": len(accounts)}
        elif kind == "dispute" and data["status"] in ("needs_response", "warning_needs_response"):
            # Evidence not submitted by due_by is past due (the sandbox clock decides).
            details = data["evidence_details"]
            details["past_due"] = bool(details["due_by"]) and self.now() > details["due_by"]
        return data

    def expand(self, data: Any, paths: list[str], scope: str) -> Any:
        for path in paths:
            data = self._expand_path(data, path.split("."), scope)
        return data

    def _expand_path(self, data: Any, parts: list[str], scope: str) -> Any:
        if not parts or data is None:
            return data
        if isinstance(data, list):
            return [self._expand_path(item, parts, scope) for item in data]
        if not isinstance(data, dict):
            return data
        head, rest = parts[0], parts[1:]
        if head not in data:
            return data
        value = data[head]
        if isinstance(value, str):
            target = self.store.get(value, scope) or self.store.get(value, PLATFORM)
            if target is not None:
                value = self.render(target)
        data[head] = self._expand_path(value, rest, scope) if rest else value
        return data

    def emit(self, event_type: str, obj: dict[str, Any], scope: str,
             previous_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record an event about ``obj`` in ``scope`` and hand it to webhook delivery.

        Events in a connected account's scope carry ``account`` (Stripe's Connect events);
        platform events do not.
        """
        data: dict[str, Any] = {"object": self.render(obj)}
        if previous_attributes:
            data["previous_attributes"] = previous_attributes
        event = from_fixture("event", id=new_id("evt"), created=self.now(), data=data,
                             type=event_type, pending_webhooks=0,
                             request=dict(self.request_context or
                                          {"id": None, "idempotency_key": None}))
        if scope != PLATFORM:
            event["account"] = scope
        self.store.add(event, scope)
        self.on_event(event)
        return event

    def _filter_created(self, req: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        created = req.params.get("created")
        if created is None or created == "":
            return items
        if not isinstance(created, dict):
            created = {"eq": created}
        tests = {"eq": lambda a, b: a == b, "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
                 "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}
        for operator, raw in created.items():
            if operator not in tests:
                raise invalid_request(f"Received unknown parameter: created[{operator}]",
                                      param=f"created[{operator}]")
            bound = as_int({"value": raw}, "value")
            items = [item for item in items if tests[operator](item["created"], bound)]
        return items

    def list_response(self, req: Request, items: list[dict[str, Any]], url: str) -> dict[str, Any]:
        """Stripe's cursor pagination over ``items`` (already newest first).

        Also Stripe's ``created`` filter: ``created=<t>`` or ``created[gt|gte|lt|lte]=<t>``.
        """
        items = self._filter_created(req, items)
        limit = as_int(req.params, "limit", default=10)
        if not 1 <= limit <= 100:
            raise invalid_request("Invalid limit: must be between 1 and 100", param="limit")
        ids = [item["id"] for item in items]
        starting_after = req.params.get("starting_after")
        ending_before = req.params.get("ending_before")
        if starting_after:
            if starting_after not in ids:
                raise missing_resource(KIND_BY_PREFIX.get(starting_after.split("_")[0], "object"),
                                       starting_after, param="starting_after")
            items = items[ids.index(starting_after) + 1:]
            page, has_more = items[:limit], len(items) > limit
        elif ending_before:
            if ending_before not in ids:
                raise missing_resource(KIND_BY_PREFIX.get(ending_before.split("_")[0], "object"),
                                       ending_before, param="ending_before")
            items = items[:ids.index(ending_before)]
            page, has_more = items[-limit:], len(items) > limit
        else:
            page, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": [self.render(item) for item in page],
                "has_more": has_more, "url": url}

