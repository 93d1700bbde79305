"""The Stripe API itself: accounts, links, balance, payments, refunds, disputes, events.

Every handler takes a :class:`~stripe_sandbox.messages.Request` (params already decoded,
``scope`` = the account named by ``Stripe-Account`` or ``"platform"``) and returns the stored
object dict; the app turns it into JSON (removing private ``_`` keys, applying ``expand``).
Handlers run with the store lock held, so each one is atomic.

Money model (documented in docs/sandbox.md):
* a successful charge of A cents with application fee F on a connected account adds one
  balance transaction there: amount A, fee = Stripe's fee (2.9 % + 30 c) + F, net the rest,
  *pending* until ``available_on`` (created + the account's payout ``delay_days``);
  and one on the platform: the application fee F, pending for 2 days.
* refunds, fee refunds and disputes are debited (or credited) at once, as *available*.
* ``Sandbox.advance_time(seconds)`` moves the clock, which is how pending becomes available.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .errors import StripeError, invalid_request, missing_param, missing_resource
from .forms import as_bool, as_int, as_list, merge_metadata
from .messages import Request
from .objects import (
    TEST_PAYMENT_METHODS,
    card_details,
    empty_list,
    from_fixture,
    luhn_valid,
    new_id,
    new_secret,
)
from .store import PLATFORM, Store, public_view

CURRENCY = "usd"
MIN_AMOUNT = 50
MAX_AMOUNT = 99_999_999
DISPUTE_FEE = 1500
PLATFORM_FEE_DELAY_DAYS = 2
APPLICATION_ID = "ca_sandbox"

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

# Path segment -> the singular name Stripe uses in "No such ..." messages, for every object
# kind the sandbox stores.
KIND_BY_PREFIX = {
    "acct": "account", "pi": "payment_intent", "ch": "charge", "re": "refund",
    "fee": "application_fee", "fr": "fee_refund", "dp": "dispute", "evt": "event",
    "we": "webhook_endpoint", "txn": "balance_transaction", "pm": "payment_method",
    "ba": "bank_account",
}


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def stripe_processing_fee(amount: int) -> int:
    return round_half_up(Decimal(amount) * Decimal("0.029")) + 30


def minimum_delay_days(country: str) -> int:
    return PAYOUT_MINIMUM_DELAY_DAYS.get(country.upper(), DEFAULT_MINIMUM_DELAY_DAYS)


def _requirements(currently_due: list[str], *, past_due: list[str] | None = None,
                  disabled_reason: str | None = None, eventually_due: list[str] | None = None,
                  current_deadline: int | None = None) -> dict[str, Any]:
    return {
        "alternatives": [], "current_deadline": current_deadline,
        "currently_due": list(currently_due), "disabled_reason": disabled_reason, "errors": [],
        "eventually_due": list(eventually_due if eventually_due is not None else currently_due),
        "past_due": list(past_due or []), "pending_verification": [],
    }


class StripeApi:
    """Stripe's behaviour over a :class:`Store`. ``emit`` is called for every new event."""

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
            refunds = [public_view(r) for r in self.store.all("fee_refund", obj["_scope"])
                       if r["fee"] == obj["id"]]
            data["refunds"] = {**empty_list(f"/v1/application_fees/{obj['id']}/refunds"),
                               "data": refunds, "total_count": len(refunds)}
        elif kind == "account":
            accounts = [public_view(b) for b in obj.get("_external_accounts", [])]
            data["external_accounts"] = {
                **empty_list(f"/v1/accounts/{obj['id']}/external_accounts"),
                "data": accounts, "total_count": len(accounts)}
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

    def list_response(self, req: Request, items: list[dict[str, Any]], url: str) -> dict[str, Any]:
        """Stripe's cursor pagination over ``items`` (already newest first)."""
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

    # =====================================================================================
    # Accounts
    # =====================================================================================
    def platform_account(self) -> dict[str, Any]:
        if self.store.platform_account_id:
            existing = self.store.get(self.store.platform_account_id)
            if existing:
                return existing
        account = from_fixture(
            "account", id=new_id("acct", 16), type="standard", country="US", created=self.now(),
            email="platform@example.com", charges_enabled=True, payouts_enabled=True,
            details_submitted=True, default_currency=CURRENCY, business_type="company",
            capabilities={"card_payments": "active", "transfers": "active"},
            controller={"type": "account"},
        )
        account["business_profile"]["name"] = "Sandbox Platform"
        account["settings"]["dashboard"]["display_name"] = "Sandbox Platform"
        account["_platform"] = True
        self.store.add(account, PLATFORM)
        self.store.platform_account_id = account["id"]
        return account

    def connected_account(self, account_id: str, *, param: str = "account") -> dict[str, Any]:
        account = self.store.get(account_id, PLATFORM, "account")
        if account is None or account.get("_platform") or account.get("_deleted"):
            raise missing_resource("account", account_id, param=param)
        return account

    def check_scope(self, req: Request) -> None:
        """A Stripe-Account header must name one of the platform's connected accounts."""
        if req.scope == PLATFORM:
            return
        account = self.store.get(req.scope, PLATFORM, "account")
        if account is None or account.get("_platform") or account.get("_deleted"):
            raise StripeError(
                403, "invalid_request_error",
                f"The provided key does not have access to account '{req.scope}' (or that "
                "account does not exist). Application access may have been revoked.",
                code="account_invalid")

    def require_platform(self, req: Request) -> None:
        if req.scope != PLATFORM:
            raise invalid_request("This request can only be made by the platform, without the "
                                  "Stripe-Account header.")

    def get_current_account(self, req: Request) -> dict[str, Any]:
        if req.scope == PLATFORM:
            return self.platform_account()
        return self.connected_account(req.scope)

    def create_account(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        params = req.params
        account_type = params.get("type") or "express"
        if account_type not in ("express", "standard", "custom"):
            raise invalid_request("Invalid type: must be one of express, standard, or custom",
                                  param="type")
        country = str(params.get("country") or "US").upper()
        if len(country) != 2 or not country.isalpha():
            raise invalid_request(f"Country '{country}' is unknown.", param="country")
        if country in EURO_COUNTRIES:
            default_currency = "eur"
        else:
            default_currency = DEFAULT_CURRENCY_BY_COUNTRY.get(country, "usd")
        capabilities = {}
        for name, options in (params.get("capabilities") or {}).items():
            if isinstance(options, dict) and as_bool(options, "requested"):
                capabilities[name] = "inactive"
        due = list(NEW_ACCOUNT_REQUIREMENTS)
        account = from_fixture(
            "account", id=new_id("acct", 16), type=account_type, country=country,
            created=self.now(), email=params.get("email"), default_currency=default_currency,
            charges_enabled=False, payouts_enabled=False, details_submitted=False,
            business_type=params.get("business_type"), capabilities=capabilities,
            metadata=merge_metadata({}, params.get("metadata")),
            requirements=_requirements(due, past_due=due, disabled_reason="requirements.past_due"),
            controller={"type": "application", "is_controller": True,
                        "stripe_dashboard": {"type": account_type if account_type != "custom"
                                             else "none"}},
        )
        account["tos_acceptance"] = {"date": None, "ip": None, "user_agent": None}
        account["settings"]["payouts"]["schedule"] = {
            "delay_days": minimum_delay_days(country), "interval": "daily"}
        self._apply_account_params(account, params)
        self.store.add(account, PLATFORM)
        return account

    def _apply_account_params(self, account: dict[str, Any], params: dict[str, Any]) -> None:
        if "email" in params:
            account["email"] = params["email"] or None
        if "business_type" in params:
            account["business_type"] = params["business_type"] or None
        if "metadata" in params:
            account["metadata"] = merge_metadata(account["metadata"], params["metadata"])
        profile = params.get("business_profile")
        if isinstance(profile, dict):
            for key, value in profile.items():
                if key not in account["business_profile"]:
                    raise invalid_request(f"Received unknown parameter: business_profile[{key}]",
                                          param=f"business_profile[{key}]")
                account["business_profile"][key] = value or None
        for name, options in (params.get("capabilities") or {}).items():
            if isinstance(options, dict) and as_bool(options, "requested"):
                account["capabilities"].setdefault(name, "inactive")
        schedule = ((params.get("settings") or {}).get("payouts") or {}).get("schedule")
        if isinstance(schedule, dict):
            self._apply_payout_schedule(account, schedule)

    def _apply_payout_schedule(self, account: dict[str, Any], schedule: dict[str, Any]) -> None:
        current = account["settings"]["payouts"]["schedule"]
        param = "settings[payouts][schedule][delay_days]"
        minimum = minimum_delay_days(account["country"])
        if "delay_days" in schedule:
            raw = schedule["delay_days"]
            if raw == "minimum":
                delay = minimum
            else:
                try:
                    delay = int(raw)
                except (TypeError, ValueError):
                    raise invalid_request(f"Invalid integer: {raw}", param=param,
                                          code="parameter_invalid_integer") from None
                if delay < minimum:
                    raise invalid_request(
                        f"You cannot lower this account's delay_days below its minimum of "
                        f"{minimum} days for {account['country']} (got {delay}). Use "
                        "'minimum' to get the lowest allowed value.", param=param)
                if delay > 365:
                    raise invalid_request("delay_days cannot be more than 365.", param=param)
            current["delay_days"] = delay
        if "interval" in schedule:
            interval = schedule["interval"]
            if interval not in ("manual", "daily", "weekly", "monthly"):
                raise invalid_request(f"Invalid interval: {interval}",
                                      param="settings[payouts][schedule][interval]")
            current["interval"] = interval
        for anchor in ("weekly_anchor", "monthly_anchor"):
            if anchor in schedule:
                current[anchor] = schedule[anchor]

    def _account_for_update(self, req: Request) -> dict[str, Any]:
        account_id = req.path_args["id"]
        if req.scope not in (PLATFORM, account_id):
            raise missing_resource("account", account_id)
        return self.connected_account(account_id, param="account")

    def retrieve_account(self, req: Request) -> dict[str, Any]:
        account_id = req.path_args["id"]
        if account_id == self.store.platform_account_id and req.scope == PLATFORM:
            return self.platform_account()
        return self._account_for_update(req)

    def update_account(self, req: Request) -> dict[str, Any]:
        account = self._account_for_update(req)
        before = copy.deepcopy(public_view(account))
        self._apply_account_params(account, req.params)
        self.account_updated(account, before)
        return account

    def delete_account(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        account = self.connected_account(req.path_args["id"])
        account["_deleted"] = True
        return {"id": account["id"], "object": "account", "deleted": True}

    def list_accounts(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        accounts = [a for a in self.store.all("account", PLATFORM)
                    if not a.get("_platform") and not a.get("_deleted")]
        return self.list_response(req, accounts, "/v1/accounts")

    def account_updated(self, account: dict[str, Any], before: dict[str, Any]) -> None:
        """Send account.updated (a Connect event) with what changed, if anything did."""
        after = public_view(account)
        previous = {key: value for key, value in before.items() if after.get(key) != value}
        if previous:
            self.emit("account.updated", account, account["id"], previous_attributes=previous)

    def list_external_accounts(self, req: Request) -> dict[str, Any]:
        account = self._account_for_update(req)
        return self.render(account)["external_accounts"]

    def retrieve_external_account(self, req: Request) -> dict[str, Any]:
        account = self._account_for_update(req)
        for bank in account.get("_external_accounts", []):
            if bank["id"] == req.path_args["external_id"]:
                return public_view(bank)
        raise missing_resource("external_account", req.path_args["external_id"])

    def list_persons(self, req: Request) -> dict[str, Any]:
        # Express onboarding keeps the person inside Stripe; the sandbox exposes none.
        account = self._account_for_update(req)
        return empty_list(f"/v1/accounts/{account['id']}/persons")

    def list_capabilities(self, req: Request) -> dict[str, Any]:
        account = self._account_for_update(req)
        data = [from_fixture("capability", id=name, account=account["id"], status=status,
                             requested=True, requested_at=account["created"],
                             requirements=copy.deepcopy(account["requirements"]))
                for name, status in account["capabilities"].items()]
        return {**empty_list(f"/v1/accounts/{account['id']}/capabilities"), "data": data}

    # -- onboarding and requirements (used by the onboarding page and sandbox helpers) ------
    def complete_onboarding(self, account_id: str, *, leave_due: bool = False,
                            first_name: str = "Jenny", last_name: str = "Rosen",
                            dob: tuple[int, int, int] = (1990, 1, 1),
                            routing_number: str = "110000000",
                            account_number: str = "000123456789") -> dict[str, Any]:
        account = self.connected_account(account_id)
        before = copy.deepcopy(public_view(account))
        account["details_submitted"] = True
        account["business_type"] = account["business_type"] or "individual"
        account["tos_acceptance"] = {"date": self.now(), "ip": "127.0.0.1",
                                     "user_agent": "stripe-sandbox"}
        account["_individual"] = {"first_name": first_name, "last_name": last_name,
                                  "dob": {"year": dob[0], "month": dob[1], "day": dob[2]}}
        if account["business_profile"].get("mcc") is None:
            account["business_profile"]["mcc"] = "5945"
        if not account.get("_external_accounts"):
            bank = from_fixture(
                "bank_account", id=new_id("ba"), account_holder_name=f"{first_name} {last_name}",
                account_holder_type="individual", country=account["country"],
                currency=account["default_currency"], last4=account_number[-4:],
                routing_number=routing_number, status="new", fingerprint=new_secret(16))
            bank["account"] = account["id"]
            bank["default_for_currency"] = True
            account["_external_accounts"] = [bank]
        if leave_due:
            due = list(INCOMPLETE_ONBOARDING_REQUIREMENTS)
            account["requirements"] = _requirements(
                due, past_due=due, disabled_reason="requirements.past_due")
            account["charges_enabled"] = False
            account["payouts_enabled"] = False
            account["capabilities"] = {name: "inactive" for name in account["capabilities"]}
        else:
            account["requirements"] = _requirements([])
            account["charges_enabled"] = True
            account["payouts_enabled"] = True
            account["capabilities"] = {name: "active" for name in
                                       (account["capabilities"] or {"card_payments": 1,
                                                                    "transfers": 1})}
        self.account_updated(account, before)
        return account

    def set_requirements(self, account_id: str, *, currently_due: list[str] | None = None,
                         past_due: list[str] | None = None, eventually_due: list[str] | None = None,
                         disabled_reason: str | None = None, charges_enabled: bool | None = None,
                         payouts_enabled: bool | None = None,
                         current_deadline: int | None = None) -> dict[str, Any]:
        """Put an account in the state Stripe would after a verification check.

        Anything past due (or a disabled_reason) disables charges and payouts unless told
        otherwise; clearing everything enables them again.
        """
        account = self.connected_account(account_id)
        before = copy.deepcopy(public_view(account))
        past_due = list(past_due or [])
        currently_due = list(currently_due if currently_due is not None else past_due)
        if past_due and not disabled_reason:
            disabled_reason = "requirements.past_due"
        account["requirements"] = _requirements(
            currently_due, past_due=past_due, disabled_reason=disabled_reason or None,
            eventually_due=eventually_due if eventually_due is not None else currently_due,
            current_deadline=current_deadline)
        blocked = bool(disabled_reason)
        account["charges_enabled"] = (not blocked) if charges_enabled is None else charges_enabled
        account["payouts_enabled"] = (not blocked) if payouts_enabled is None else payouts_enabled
        status = "active" if account["charges_enabled"] else "inactive"
        account["capabilities"] = {name: status for name in account["capabilities"]}
        self.account_updated(account, before)
        return account

    # =====================================================================================
    # Account links and login links
    # =====================================================================================
    def create_account_link(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        params = req.params
        if not params.get("account"):
            raise missing_param("account")
        account = self.connected_account(params["account"])
        link_type = params.get("type")
        if not link_type:
            raise missing_param("type")
        if link_type not in ("account_onboarding", "account_update"):
            raise invalid_request(f"Invalid type: {link_type}", param="type")
        if link_type == "account_update" and account["type"] == "express":
            raise invalid_request("You cannot create `account_update` type Account Links for "
                                  "Express accounts.", param="type")
        for name in ("refresh_url", "return_url"):
            if not params.get(name):
                raise missing_param(name)
        created = self.now()
        token = new_secret(24)
        self.store.tokens[token] = {
            "kind": "account_link", "account": account["id"], "created": created,
            "expires_at": created + 300, "refresh_url": params["refresh_url"],
            "return_url": params["return_url"], "state": "new",
        }
        return from_fixture("account_link", created=created, expires_at=created + 300,
                            url=f"{self.public_url()}/_sandbox/onboarding/{token}")

    def create_login_link(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        account = self.connected_account(req.path_args["id"])
        if account["type"] != "express":
            raise invalid_request("Login links can only be created for Express accounts.",
                                  param="account")
        if not account["details_submitted"]:
            raise invalid_request("Cannot create a login link for an account that has not "
                                  "completed onboarding.", param="account")
        token = new_secret(24)
        self.store.tokens[token] = {"kind": "login_link", "account": account["id"]}
        return from_fixture("login_link", created=self.now(),
                            url=f"{self.public_url()}/_sandbox/dashboard/{token}")

    # =====================================================================================
    # Balance and balance transactions
    # =====================================================================================
    def balance_amounts(self, scope: str) -> tuple[int, int]:
        available = pending = 0
        now = self.now()
        for txn in self.store.all("balance_transaction", scope):
            if txn["status"] == "pending" and txn["available_on"] <= now:
                txn["status"] = "available"
            if txn["status"] == "available":
                available += txn["net"]
            else:
                pending += txn["net"]
        return available, pending

    def retrieve_balance(self, req: Request) -> dict[str, Any]:
        available, pending = self.balance_amounts(req.scope)
        return from_fixture(
            "balance",
            available=[{"amount": available, "currency": CURRENCY,
                        "source_types": {"card": available}}],
            pending=[{"amount": pending, "currency": CURRENCY, "source_types": {"card": pending}}],
            connect_reserved=[{"amount": 0, "currency": CURRENCY}],
        )

    def add_balance_transaction(self, scope: str, *, amount: int, fee: int = 0,
                                fee_details: list[dict] | None = None, source: str,
                                txn_type: str, reporting_category: str, description: str | None,
                                delay_days: int = 0) -> dict[str, Any]:
        created = self.now()
        txn = from_fixture(
            "balance_transaction", id=new_id("txn"), amount=amount, created=created,
            available_on=created + delay_days * 86400, currency=CURRENCY,
            description=description, fee=fee, fee_details=fee_details or [], net=amount - fee,
            reporting_category=reporting_category, source=source,
            status="pending" if delay_days > 0 else "available", type=txn_type,
        )
        return self.store.add(txn, scope)

    def retrieve_balance_transaction(self, req: Request) -> dict[str, Any]:
        txn = self.find("balance_transaction", req.path_args["id"], req.scope)
        self.balance_amounts(req.scope)  # refresh pending -> available
        return txn

    def list_balance_transactions(self, req: Request) -> dict[str, Any]:
        self.balance_amounts(req.scope)
        items = list(self.store.all("balance_transaction", req.scope))
        for name in ("source", "type"):
            if req.params.get(name):
                items = [t for t in items if t[name] == req.params[name]]
        return self.list_response(req, items, "/v1/balance_transactions")

    def _delay_days(self, scope: str) -> int:
        if scope == PLATFORM:
            return PLATFORM_FEE_DELAY_DAYS
        account = self.store.get(scope)
        return account["settings"]["payouts"]["schedule"]["delay_days"] if account else 2

    # =====================================================================================
    # Payment methods
    # =====================================================================================
    def _new_card_payment_method(self, scope: str, number: str, exp_month: int, exp_year: int,
                                 billing_details: dict | None = None) -> dict[str, Any]:
        details = card_details(number)
        card = copy.deepcopy(from_fixture("payment_method")["card"])
        card.update({
            "brand": details["brand"], "display_brand": details["brand"], "country": "US",
            "exp_month": exp_month, "exp_year": exp_year, "funding": details["funding"],
            "last4": number[-4:], "fingerprint": "sbx" + number[-8:], "generated_from": None,
            "networks": {"available": [details["brand"]], "preferred": None},
            "wallet": None, "checks": {"address_line1_check": None,
                                       "address_postal_code_check": None, "cvc_check": "pass"},
        })
        pm = from_fixture("payment_method", id=new_id("pm"), created=self.now(), type="card",
                          card=card, customer=None, allow_redisplay="unspecified")
        if isinstance(billing_details, dict):
            for key in ("email", "name", "phone"):
                if key in billing_details:
                    pm["billing_details"][key] = billing_details[key] or None
        pm["_card_number"] = number
        return self.store.add(pm, scope)

    def payment_method_from_card_params(self, scope: str, card: Any, param: str,
                                        billing_details: dict | None = None) -> dict[str, Any]:
        if not isinstance(card, dict):
            raise missing_param(f"{param}[number]")
        number = str(card.get("number") or "").replace(" ", "")
        if not number:
            raise missing_param(f"{param}[number]")
        if not luhn_valid(number):
            raise StripeError(402, "card_error", "Your card number is incorrect.",
                              code="incorrect_number", param=f"{param}[number]")
        try:
            exp_month = int(card.get("exp_month"))
        except (TypeError, ValueError):
            raise StripeError(402, "card_error", "Your card's expiration month is invalid.",
                              code="invalid_expiry_month", param=f"{param}[exp_month]") from None
        try:
            exp_year = int(card.get("exp_year"))
        except (TypeError, ValueError):
            raise StripeError(402, "card_error", "Your card's expiration year is invalid.",
                              code="invalid_expiry_year", param=f"{param}[exp_year]") from None
        if exp_year < 100:
            exp_year += 2000
        if not 1 <= exp_month <= 12:
            raise StripeError(402, "card_error", "Your card's expiration month is invalid.",
                              code="invalid_expiry_month", param=f"{param}[exp_month]")
        today = datetime.datetime.fromtimestamp(self.now(), datetime.UTC)
        if (exp_year, exp_month) < (today.year, today.month):
            raise StripeError(402, "card_error", "Your card's expiration year is invalid.",
                              code="invalid_expiry_year", param=f"{param}[exp_year]")
        cvc = str(card.get("cvc") or "")
        if cvc and not (cvc.isdigit() and len(cvc) in (3, 4)):
            raise StripeError(402, "card_error", "Your card's security code is invalid.",
                              code="invalid_cvc", param=f"{param}[cvc]")
        return self._new_card_payment_method(scope, number, exp_month, exp_year, billing_details)

    def resolve_payment_method(self, scope: str, pm_id: str, param: str = "payment_method"
                               ) -> dict[str, Any]:
        """A stored PaymentMethod, or a new one for Stripe's magic test ids (pm_card_visa...)."""
        if pm_id in TEST_PAYMENT_METHODS:
            return self._new_card_payment_method(scope, TEST_PAYMENT_METHODS[pm_id], 12,
                                                 self._next_year() + 3)
        pm = self.store.get(pm_id, scope, "payment_method")
        if pm is None:
            raise missing_resource("PaymentMethod", pm_id, param=param)
        return pm

    def _next_year(self) -> int:
        return datetime.datetime.fromtimestamp(self.now(), datetime.UTC).year

    def create_payment_method(self, req: Request) -> dict[str, Any]:
        params = req.params
        if params.get("type") != "card":
            raise invalid_request("The sandbox supports only type=card.", param="type")
        return self.payment_method_from_card_params(req.scope, params.get("card"), "card",
                                                    params.get("billing_details"))

    def retrieve_payment_method(self, req: Request) -> dict[str, Any]:
        return self.resolve_payment_method(req.scope, req.path_args["id"], param="payment_method")

    def list_payment_methods(self, req: Request) -> dict[str, Any]:
        # PaymentMethods belong to customers in Stripe; the sandbox has no customers.
        return empty_list("/v1/payment_methods")

    # =====================================================================================
    # PaymentIntents
    # =====================================================================================
    def _validate_amount(self, params: dict[str, Any]) -> int:
        amount = as_int(params, "amount", required=True)
        if amount < MIN_AMOUNT:
            raise invalid_request("Amount must be at least $0.50 usd", param="amount",
                                  code="amount_too_small")
        if amount > MAX_AMOUNT:
            raise invalid_request("Amount must be no more than $999,999.99", param="amount",
                                  code="amount_too_large")
        return amount

    def _validate_currency(self, params: dict[str, Any]) -> str:
        currency = str(params.get("currency") or "").lower()
        if not currency:
            raise missing_param("currency")
        if currency != CURRENCY:
            raise invalid_request(f"Invalid currency: {currency}. The Stripe sandbox supports "
                                  f"only {CURRENCY}.", param="currency")
        return currency

    def _validate_fee(self, params: dict[str, Any], amount: int, scope: str) -> int | None:
        fee = as_int(params, "application_fee_amount")
        if fee is None:
            return None
        if scope == PLATFORM:
            raise invalid_request(
                "Can only apply an application_fee_amount when the PaymentIntent is attempting "
                "a direct payment (using an OAuth key or Stripe-Account header) or destination "
                "payment (using `transfer_data[destination]`).", param="application_fee_amount")
        if fee < 0:
            raise invalid_request("application_fee_amount cannot be negative.",
                                  param="application_fee_amount")
        if fee > amount:
            raise invalid_request(
                f"The application fee ({fee}) cannot be greater than the amount ({amount}).",
                param="application_fee_amount")
        return fee

    def create_payment_intent(self, req: Request) -> dict[str, Any]:
        params = req.params
        amount = self._validate_amount(params)
        currency = self._validate_currency(params)
        fee = self._validate_fee(params, amount, req.scope)
        if req.scope != PLATFORM:
            account = self.connected_account(req.scope)
            if not account["charges_enabled"]:
                raise invalid_request(
                    "Your account cannot currently make charges. To find out why charge "
                    "creation is currently disabled, look at the `requirements.disabled_reason` "
                    f"property on this account (/v1/accounts/{account['id']}).",
                    code="account_invalid")
        capture_method = params.get("capture_method") or "automatic"
        if capture_method not in ("automatic", "automatic_async"):
            raise invalid_request("The Stripe sandbox supports only automatic capture.",
                                  param="capture_method")
        automatic = params.get("automatic_payment_methods")
        methods = as_list(params, "payment_method_types")
        if methods and isinstance(automatic, dict) and as_bool(automatic, "enabled"):
            raise invalid_request("You may only specify one of these parameters: "
                                  "automatic_payment_methods, payment_method_types.",
                                  param="automatic_payment_methods")
        for method in methods:
            if method != "card":
                raise invalid_request(f'The payment method type "{method}" is invalid. The '
                                      "Stripe sandbox supports only card.",
                                      param="payment_method_types")
        intent_id = new_id("pi")
        pi = from_fixture(
            "payment_intent", id=intent_id, client_secret=f"{intent_id}_secret_{new_secret(25)}",
            amount=amount, amount_capturable=0, amount_received=0, application=None,
            application_fee_amount=fee, capture_method=capture_method,
            automatic_payment_methods=({"allow_redirects": "always", "enabled": True}
                                       if not methods else None),
            created=self.now(), currency=currency, description=params.get("description"),
            metadata=merge_metadata({}, params.get("metadata")), payment_method=None,
            payment_method_types=["card"], receipt_email=params.get("receipt_email"),
            statement_descriptor=params.get("statement_descriptor"),
            statement_descriptor_suffix=params.get("statement_descriptor_suffix"),
            status="requires_payment_method", latest_charge=None, customer=None,
            payment_method_options={"card": {"installments": None, "mandate_options": None,
                                             "network": None,
                                             "request_three_d_secure": "automatic"}},
        )
        if params.get("payment_method"):
            pm = self.resolve_payment_method(req.scope, params["payment_method"])
            pi["payment_method"] = pm["id"]
            pi["status"] = "requires_confirmation"
        self.store.add(pi, req.scope)
        self.emit("payment_intent.created", pi, req.scope)
        if as_bool(params, "confirm"):
            self._confirm(pi, {k: v for k, v in params.items() if k in
                               ("return_url", "payment_method_data")}, req.scope)
        return pi

    def find_payment_intent(self, req: Request) -> dict[str, Any]:
        pi = self.find("payment_intent", req.path_args["id"], req.scope, param="intent")
        if req.key_kind == "publishable" and req.params.get("client_secret") != pi["client_secret"]:
            raise invalid_request(
                "The client_secret provided does not match any associated PaymentIntent on "
                "this account.", param="client_secret", code="payment_intent_invalid_parameter")
        return pi

    def retrieve_payment_intent(self, req: Request) -> dict[str, Any]:
        return self.find_payment_intent(req)

    def update_payment_intent(self, req: Request) -> dict[str, Any]:
        pi = self.find_payment_intent(req)
        params = req.params
        if pi["status"] not in PAYMENT_INTENT_OPEN:
            raise self._unexpected_state(pi, "update")
        if "amount" in params:
            pi["amount"] = self._validate_amount(params)
        if "currency" in params:
            pi["currency"] = self._validate_currency(params)
        if "application_fee_amount" in params:
            pi["application_fee_amount"] = self._validate_fee(params, pi["amount"], req.scope)
        elif pi["application_fee_amount"] and pi["application_fee_amount"] > pi["amount"]:
            raise invalid_request("The application fee cannot be greater than the amount.",
                                  param="application_fee_amount")
        for name in ("description", "receipt_email", "statement_descriptor",
                     "statement_descriptor_suffix"):
            if name in params:
                pi[name] = params[name] or None
        if "metadata" in params:
            pi["metadata"] = merge_metadata(pi["metadata"], params["metadata"])
        if params.get("payment_method"):
            pm = self.resolve_payment_method(req.scope, params["payment_method"])
            pi["payment_method"] = pm["id"]
            pi["status"] = "requires_confirmation"
        return pi

    def _unexpected_state(self, pi: dict[str, Any], action: str) -> StripeError:
        return invalid_request(
            f"You cannot {action} this PaymentIntent because it has a status of "
            f"{pi['status']}.", code="payment_intent_unexpected_state",
            payment_intent=self.render(pi))

    def confirm_payment_intent(self, req: Request) -> dict[str, Any]:
        pi = self.find_payment_intent(req)
        return self._confirm(pi, req.params, req.scope)

    def _confirm(self, pi: dict[str, Any], params: dict[str, Any], scope: str) -> dict[str, Any]:
        if pi["status"] not in PAYMENT_INTENT_OPEN:
            raise self._unexpected_state(pi, "confirm")
        if params.get("payment_method"):
            pm = self.resolve_payment_method(scope, params["payment_method"])
        elif isinstance(params.get("payment_method_data"), dict):
            data = params["payment_method_data"]
            if data.get("type") != "card":
                raise invalid_request("The Stripe sandbox supports only card payment methods.",
                                      param="payment_method_data[type]")
            pm = self.payment_method_from_card_params(scope, data.get("card"),
                                                      "payment_method_data[card]",
                                                      data.get("billing_details"))
        elif pi["payment_method"]:
            pm = self.resolve_payment_method(scope, pi["payment_method"])
        else:
            raise invalid_request(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "To confirm the PaymentIntent, update it with a payment_method or pass "
                "payment_method (or payment_method_data) when confirming.",
                param="payment_method", code="payment_intent_unexpected_state")
        pi["payment_method"] = pm["id"]
        if params.get("return_url"):
            pi["_return_url"] = params["return_url"]
        if "receipt_email" in params:
            pi["receipt_email"] = params["receipt_email"] or None
        behaviour = card_details(pm["_card_number"])
        if behaviour["behaviour"] == "decline":
            self._decline(pi, pm, scope, behaviour)
        if behaviour["behaviour"] == "authenticate" and pi["status"] != "requires_action":
            return self._require_authentication(pi, scope)
        if behaviour["behaviour"] == "authenticate":
            # Confirming again while authentication is pending just shows the same challenge.
            return pi
        return self.succeed_payment(pi, pm, scope,
                                    dispute=behaviour["behaviour"] == "dispute")

    def _require_authentication(self, pi: dict[str, Any], scope: str) -> dict[str, Any]:
        token = new_secret(24)
        self.store.tokens[token] = {"kind": "three_d_secure", "payment_intent": pi["id"],
                                    "scope": scope}
        pi["status"] = "requires_action"
        pi["next_action"] = {
            "type": "redirect_to_url",
            "redirect_to_url": {"url": f"{self.public_url()}/_sandbox/3ds/{token}",
                                "return_url": pi.get("_return_url")},
        }
        pi["_three_d_secure_token"] = token
        self.emit("payment_intent.requires_action", pi, scope)
        return pi

    def authenticate_payment_intent(self, pi_id: str, scope: str, *, success: bool
                                    ) -> dict[str, Any]:
        """The cardholder completes (or fails) the 3-D Secure challenge."""
        pi = self.find("payment_intent", pi_id, scope)
        if pi["status"] != "requires_action":
            raise self._unexpected_state(pi, "authenticate")
        pm = self.resolve_payment_method(scope, pi["payment_method"])
        self.store.tokens.pop(pi.pop("_three_d_secure_token", ""), None)
        if success:
            return self.succeed_payment(pi, pm, scope, three_d_secure=True)
        pi["status"] = "requires_payment_method"
        pi["next_action"] = None
        pi["payment_method"] = None
        pi["last_payment_error"] = {
            "code": "payment_intent_authentication_failure",
            "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
            "message": "The provided PaymentMethod has failed authentication. You can provide "
                       "payment_method_data or a new PaymentMethod to attempt to fulfill this "
                       "PaymentIntent again.",
            "payment_method": self.render(pm), "type": "invalid_request_error",
        }
        self.emit("payment_intent.payment_failed", pi, scope)
        return pi

    def _card_details_for_charge(self, pm: dict[str, Any], amount: int, three_d_secure: bool
                                 ) -> dict[str, Any]:
        card = copy.deepcopy(from_fixture("charge")["payment_method_details"]["card"])
        pm_card = pm["card"]
        card.update({
            "amount_authorized": amount, "brand": pm_card["brand"], "country": "US",
            "exp_month": pm_card["exp_month"], "exp_year": pm_card["exp_year"],
            "fingerprint": pm_card["fingerprint"], "funding": pm_card["funding"],
            "last4": pm_card["last4"], "network": pm_card["brand"], "wallet": None,
            "authorization_code": "123456", "network_transaction_id": new_secret(15),
        })
        card["overcapture"] = {"maximum_amount_capturable": amount, "status": "unavailable"}
        card["installments"] = None
        card["three_d_secure"] = ({
            "authentication_flow": "challenge", "electronic_commerce_indicator": "05",
            "exemption_indicator": None, "result": "authenticated", "result_reason": None,
            "transaction_id": new_secret(20), "version": "2.2.0",
        } if three_d_secure else None)
        return card

    def _new_charge(self, pi: dict[str, Any], pm: dict[str, Any], scope: str, *,
                    three_d_secure: bool, **values: Any) -> dict[str, Any]:
        charge = from_fixture(
            "charge", id=new_id("ch"), amount=pi["amount"], created=self.now(),
            currency=pi["currency"], description=pi["description"],
            metadata=dict(pi["metadata"]), payment_intent=pi["id"], payment_method=pm["id"],
            payment_method_details={"card": self._card_details_for_charge(
                pm, pi["amount"], three_d_secure), "type": "card"},
            receipt_email=pi["receipt_email"], amount_refunded=0, refunded=False,
            disputed=False, application_fee_amount=None, application_fee=None,
            application=APPLICATION_ID if scope != PLATFORM else None,
            statement_descriptor=pi["statement_descriptor"],
            statement_descriptor_suffix=pi["statement_descriptor_suffix"],
            calculated_statement_descriptor="SANDBOX* STUBS", fraud_details={},
        )
        charge["billing_details"] = copy.deepcopy(pm["billing_details"])
        charge.update(values)
        return self.store.add(charge, scope)

    def _decline(self, pi: dict[str, Any], pm: dict[str, Any], scope: str,
                 card: dict[str, Any]) -> None:
        charge = self._new_charge(
            pi, pm, scope, three_d_secure=False, status="failed", paid=False, captured=False,
            amount_captured=0, failure_code=card["code"], failure_message=card["message"],
            outcome={"advice_code": "try_again_later", "network_advice_code": None,
                     "network_decline_code": None, "network_status": "declined_by_network",
                     "reason": card["decline_code"], "risk_level": "normal", "risk_score": 20,
                     "seller_message": "The bank did not return any further details with "
                                       "this decline.", "type": "issuer_declined"},
        )
        error = {
            "charge": charge["id"], "code": card["code"], "decline_code": card["decline_code"],
            "doc_url": f"https://stripe.com/docs/error-codes/{card['code'].replace('_', '-')}",
            "message": card["message"], "payment_method": self.render(pm), "type": "card_error",
        }
        # Like Stripe: the failed method is detached; the next attempt brings a new one.
        pi["status"] = "requires_payment_method"
        pi["latest_charge"] = charge["id"]
        pi["next_action"] = None
        pi["payment_method"] = None
        pi["last_payment_error"] = error
        self.emit("charge.failed", charge, scope)
        self.emit("payment_intent.payment_failed", pi, scope)
        raise StripeError(402, "card_error", card["message"], code=card["code"],
                          decline_code=card["decline_code"], charge=charge["id"],
                          payment_intent=self.render(pi), payment_method=self.render(pm))

    def succeed_payment(self, pi: dict[str, Any], pm: dict[str, Any], scope: str, *,
                        three_d_secure: bool = False, dispute: bool = False) -> dict[str, Any]:
        amount = pi["amount"]
        fee_amount = pi["application_fee_amount"] or 0
        processing_fee = stripe_processing_fee(amount)
        charge = self._new_charge(
            pi, pm, scope, three_d_secure=three_d_secure, status="succeeded", paid=True,
            captured=True, amount_captured=amount, failure_code=None, failure_message=None,
            application_fee_amount=pi["application_fee_amount"],
            outcome={"advice_code": None, "network_advice_code": None,
                     "network_decline_code": None, "network_status": "approved_by_network",
                     "reason": None, "risk_level": "normal", "risk_score": 20,
                     "seller_message": "Payment complete.", "type": "authorized"},
            receipt_url=f"{self.public_url()}/_sandbox/receipts/{new_secret(16)}",
        )
        fee_details = [{"amount": processing_fee, "application": None, "currency": CURRENCY,
                        "description": "Stripe processing fees", "type": "stripe_fee"}]
        if fee_amount:
            fee_details.append({"amount": fee_amount, "application": APPLICATION_ID,
                                "currency": CURRENCY, "description": "Application fee",
                                "type": "application_fee"})
        txn = self.add_balance_transaction(
            scope, amount=amount, fee=processing_fee + fee_amount, fee_details=fee_details,
            source=charge["id"], txn_type="charge", reporting_category="charge",
            description=pi["description"], delay_days=self._delay_days(scope))
        charge["balance_transaction"] = txn["id"]
        application_fee = None
        if pi["application_fee_amount"] is not None and scope != PLATFORM:
            fee_id = new_id("fee")
            platform_txn = self.add_balance_transaction(
                PLATFORM, amount=fee_amount, source=fee_id, txn_type="application_fee",
                reporting_category="platform_earning", description=None,
                delay_days=PLATFORM_FEE_DELAY_DAYS)
            application_fee = from_fixture(
                "application_fee", id=fee_id, account=scope, amount=fee_amount,
                amount_refunded=0, balance_transaction=platform_txn["id"], charge=charge["id"],
                created=self.now(), currency=CURRENCY,
                fee_source={"charge": charge["id"], "type": "charge"}, refunded=False)
            self.store.add(application_fee, PLATFORM)
            charge["application_fee"] = fee_id
        pi.update(status="succeeded", amount_received=amount, latest_charge=charge["id"],
                  payment_method=pm["id"], last_payment_error=None, next_action=None)
        self.emit("charge.succeeded", charge, scope)
        self.emit("payment_intent.succeeded", pi, scope)
        if application_fee is not None:
            self.emit("application_fee.created", application_fee, PLATFORM)
        if dispute:
            self.open_dispute(charge, reason="fraudulent")
        return pi

    def cancel_payment_intent(self, req: Request) -> dict[str, Any]:
        pi = self.find_payment_intent(req)
        if pi["status"] not in PAYMENT_INTENT_OPEN:
            raise self._unexpected_state(pi, "cancel")
        reason = req.params.get("cancellation_reason")
        if reason and reason not in ("duplicate", "fraudulent", "requested_by_customer",
                                     "abandoned"):
            raise invalid_request(f"Invalid cancellation_reason: {reason}",
                                  param="cancellation_reason")
        pi.update(status="canceled", canceled_at=self.now(), cancellation_reason=reason or None,
                  next_action=None)
        self.emit("payment_intent.canceled", pi, req.scope)
        return pi

    def list_payment_intents(self, req: Request) -> dict[str, Any]:
        return self.list_response(req, list(self.store.all("payment_intent", req.scope)),
                                  "/v1/payment_intents")

    # =====================================================================================
    # Charges and application fees
    # =====================================================================================
    def retrieve_charge(self, req: Request) -> dict[str, Any]:
        return self.find("charge", req.path_args["id"], req.scope, param="charge")

    def list_charges(self, req: Request) -> dict[str, Any]:
        items = list(self.store.all("charge", req.scope))
        if req.params.get("payment_intent"):
            items = [c for c in items if c["payment_intent"] == req.params["payment_intent"]]
        return self.list_response(req, items, "/v1/charges")

    def retrieve_application_fee(self, req: Request) -> dict[str, Any]:
        return self.find("application_fee", req.path_args["id"], req.scope, param="id")

    def list_application_fees(self, req: Request) -> dict[str, Any]:
        items = list(self.store.all("application_fee", req.scope))
        if req.params.get("charge"):
            items = [f for f in items if f["charge"] == req.params["charge"]]
        return self.list_response(req, items, "/v1/application_fees")

    def create_fee_refund(self, req: Request) -> dict[str, Any]:
        """The platform gives (part of) its fee back to the connected account."""
        fee = self.find("application_fee", req.path_args["id"], req.scope)
        left = fee["amount"] - fee["amount_refunded"]
        if left <= 0:
            raise invalid_request(f"Application fee {fee['id']} has already been refunded.",
                                  code="charge_already_refunded")
        amount = as_int(req.params, "amount", default=left)
        if amount <= 0 or amount > left:
            raise invalid_request(
                f"Refund amount ({amount}) must be between 1 and the unrefunded fee ({left}).",
                param="amount", code="amount_too_large")
        fee_refund = self._refund_application_fee(fee, amount, None)
        fee_refund["metadata"] = merge_metadata({}, req.params.get("metadata"))
        self.add_balance_transaction(
            fee["account"], amount=amount, source=fee_refund["id"],
            txn_type="application_fee_refund", reporting_category="fee_refund",
            description="Application fee refund")
        self.emit("application_fee.refunded", fee, PLATFORM)
        return fee_refund

    def list_fee_refunds(self, req: Request) -> dict[str, Any]:
        fee = self.find("application_fee", req.path_args["id"], req.scope)
        return self.render(fee)["refunds"]

    # =====================================================================================
    # Refunds
    # =====================================================================================
    def create_refund(self, req: Request) -> dict[str, Any]:
        params = req.params
        scope = req.scope
        if params.get("charge"):
            charge = self.find("charge", params["charge"], scope, param="charge")
        elif params.get("payment_intent"):
            pi = self.find("payment_intent", params["payment_intent"], scope,
                           param="payment_intent")
            if pi["status"] != "succeeded" or not pi["latest_charge"]:
                raise invalid_request(
                    f"This PaymentIntent ({pi['id']}) does not have a successful charge to "
                    "refund.", param="payment_intent")
            charge = self.find("charge", pi["latest_charge"], scope)
        else:
            raise invalid_request("One of the following params should be provided for this "
                                  "request: payment_intent or charge.")
        if charge["status"] != "succeeded":
            raise invalid_request(f"Charge {charge['id']} has not succeeded and cannot be "
                                  "refunded.", param="charge")
        open_dispute = next((d for d in self.store.all("dispute", scope)
                             if d["charge"] == charge["id"] and d["status"] in DISPUTE_OPEN), None)
        if open_dispute:
            raise invalid_request(f"Charge {charge['id']} has been charged back; you cannot "
                                  "refund a disputed charge.", code="charge_disputed")
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise invalid_request(f"Charge {charge['id']} has already been refunded.",
                                  code="charge_already_refunded")
        amount = as_int(params, "amount", default=remaining)
        if amount <= 0:
            raise invalid_request("Refund amount must be positive.", param="amount",
                                  code="parameter_invalid_integer")
        if amount > remaining:
            raise invalid_request(
                f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on "
                f"charge (${remaining / 100:.2f})", param="amount", code="amount_too_large")
        reason = params.get("reason")
        if reason and reason not in ("duplicate", "fraudulent", "requested_by_customer"):
            raise invalid_request(f"Invalid reason: {reason}", param="reason")
        refund_id = new_id("re")
        fee_refund = None
        fee_returned = 0
        if as_bool(params, "refund_application_fee") and charge["application_fee"]:
            fee = self.find("application_fee", charge["application_fee"], PLATFORM)
            fee_left = fee["amount"] - fee["amount_refunded"]
            if amount == remaining:
                fee_returned = fee_left  # the last refund returns whatever rounding left over
            else:
                fee_returned = min(fee_left, round_half_up(
                    Decimal(fee["amount"]) * amount / Decimal(charge["amount"])))
            if fee_returned > 0:
                fee_refund = self._refund_application_fee(fee, fee_returned, refund_id)
        fee_details = [{"amount": -fee_returned, "application": APPLICATION_ID,
                        "currency": CURRENCY, "description": "Application fee refund",
                        "type": "application_fee"}] if fee_returned else []
        txn = self.add_balance_transaction(
            scope, amount=-amount, fee=-fee_returned, fee_details=fee_details, source=refund_id,
            txn_type="refund", reporting_category="refund",
            description="REFUND FOR CHARGE" + (f" ({charge['description']})"
                                               if charge["description"] else ""))
        refund = from_fixture(
            "refund", id=refund_id, amount=amount, balance_transaction=txn["id"],
            charge=charge["id"], created=self.now(), currency=charge["currency"],
            metadata=merge_metadata({}, params.get("metadata")),
            payment_intent=charge["payment_intent"], reason=reason or None, status="succeeded",
            payment_method=charge["payment_method"],
        )
        self.store.add(refund, scope)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self.emit("refund.created", refund, scope)
        self.emit("charge.refunded", charge, scope)
        if fee_refund is not None:
            fee = self.store.get(fee_refund["fee"])
            self.emit("application_fee.refunded", fee, PLATFORM)
        return refund

    def _refund_application_fee(self, fee: dict[str, Any], amount: int, refund_id: str | None
                                ) -> dict[str, Any]:
        fee_refund_id = new_id("fr")
        txn = self.add_balance_transaction(
            PLATFORM, amount=-amount, source=fee_refund_id, txn_type="application_fee_refund",
            reporting_category="platform_earning_refund", description=None)
        fee_refund = from_fixture(
            "fee_refund", id=fee_refund_id, amount=amount, balance_transaction=txn["id"],
            created=self.now(), currency=CURRENCY, fee=fee["id"],
            metadata={"refund": refund_id} if refund_id else {})
        self.store.add(fee_refund, PLATFORM)
        fee["amount_refunded"] += amount
        fee["refunded"] = fee["amount_refunded"] >= fee["amount"]
        return fee_refund

    def retrieve_refund(self, req: Request) -> dict[str, Any]:
        return self.find("refund", req.path_args["id"], req.scope, param="refund")

    def update_refund(self, req: Request) -> dict[str, Any]:
        refund = self.find("refund", req.path_args["id"], req.scope, param="refund")
        if "metadata" in req.params:
            refund["metadata"] = merge_metadata(refund["metadata"], req.params["metadata"])
        return refund

    def list_refunds(self, req: Request) -> dict[str, Any]:
        items = list(self.store.all("refund", req.scope))
        for name in ("charge", "payment_intent"):
            if req.params.get(name):
                items = [r for r in items if r[name] == req.params[name]]
        return self.list_response(req, items, "/v1/refunds")

    # =====================================================================================
    # Disputes
    # =====================================================================================
    def open_dispute(self, charge: dict[str, Any], *, reason: str = "fraudulent",
                     amount: int | None = None) -> dict[str, Any]:
        scope = charge["_scope"]
        if charge["status"] != "succeeded":
            raise invalid_request(f"Charge {charge['id']} did not succeed; it cannot be disputed.")
        if any(d["charge"] == charge["id"] for d in self.store.all("dispute", scope)):
            raise invalid_request(f"Charge {charge['id']} already has a dispute.")
        amount = amount or charge["amount"] - charge["amount_refunded"]
        if amount <= 0:
            raise invalid_request(f"Charge {charge['id']} was fully refunded; it cannot be "
                                  "disputed.")
        dispute_id = new_id("dp")
        txn = self.add_balance_transaction(
            scope, amount=-amount, fee=DISPUTE_FEE, source=dispute_id, txn_type="adjustment",
            reporting_category="dispute", description=f"Chargeback withdrawal for {charge['id']}",
            fee_details=[{"amount": DISPUTE_FEE, "application": None, "currency": CURRENCY,
                          "description": "Dispute fee", "type": "stripe_fee"}])
        pm_card = charge["payment_method_details"]["card"]
        dispute = from_fixture(
            "dispute", id=dispute_id, amount=amount, balance_transactions=[self.render(txn)],
            charge=charge["id"], created=self.now(), currency=charge["currency"],
            evidence_details={"due_by": self.now() + 7 * 86400, "has_evidence": False,
                              "past_due": False, "submission_count": 0,
                              "enhanced_eligibility": {}},
            is_charge_refundable=False, metadata={}, payment_intent=charge["payment_intent"],
            payment_method_details={"card": {"brand": pm_card["brand"], "case_type": "chargeback",
                                             "network_reason_code": "10.4",
                                             "network": pm_card["network"]}, "type": "card"},
            reason=reason, status="needs_response",
        )
        self.store.add(dispute, scope)
        charge["disputed"] = True
        self.emit("charge.dispute.created", dispute, scope)
        self.emit("charge.dispute.funds_withdrawn", dispute, scope)
        return dispute

    def retrieve_dispute(self, req: Request) -> dict[str, Any]:
        return self.find("dispute", req.path_args["id"], req.scope, param="dispute")

    def list_disputes(self, req: Request) -> dict[str, Any]:
        items = list(self.store.all("dispute", req.scope))
        for name in ("charge", "payment_intent"):
            if req.params.get(name):
                items = [d for d in items if d[name] == req.params[name]]
        return self.list_response(req, items, "/v1/disputes")

    def update_dispute(self, req: Request) -> dict[str, Any]:
        dispute = self.find("dispute", req.path_args["id"], req.scope, param="dispute")
        params = req.params
        before = copy.deepcopy(public_view(dispute))
        evidence = params.get("evidence")
        if evidence is not None:
            if dispute["status"] not in ("needs_response", "warning_needs_response"):
                raise invalid_request(
                    f"This dispute is already {dispute['status']}; evidence can no longer be "
                    "changed.", param="evidence")
            if not isinstance(evidence, dict):
                raise invalid_request("Invalid evidence: must be an object", param="evidence")
            for key, value in evidence.items():
                if key not in DISPUTE_EVIDENCE_FIELDS:
                    raise invalid_request(f"Received unknown parameter: evidence[{key}]",
                                          param=f"evidence[{key}]")
                dispute["evidence"][key] = value or None
            dispute["evidence_details"]["has_evidence"] = True
        if "metadata" in params:
            dispute["metadata"] = merge_metadata(dispute["metadata"], params["metadata"])
        if as_bool(params, "submit", default=evidence is not None) and \
                dispute["status"] in ("needs_response", "warning_needs_response"):
            dispute["status"] = ("under_review" if dispute["status"] == "needs_response"
                                 else "warning_under_review")
            dispute["evidence_details"]["submission_count"] += 1
        after = public_view(dispute)
        previous = {key: value for key, value in before.items() if after.get(key) != value}
        if previous:
            self.emit("charge.dispute.updated", dispute, req.scope, previous_attributes=previous)
        return dispute

    def close_dispute(self, req: Request) -> dict[str, Any]:
        dispute = self.find("dispute", req.path_args["id"], req.scope, param="dispute")
        if dispute["status"] not in DISPUTE_OPEN:
            raise invalid_request(f"This dispute is already closed ({dispute['status']}).")
        return self.resolve_dispute(dispute, "lost")

    def resolve_dispute(self, dispute: dict[str, Any], outcome: str) -> dict[str, Any]:
        """Finish a dispute as the card network would: ``won`` returns the money and the fee."""
        if outcome not in ("won", "lost"):
            raise invalid_request("outcome must be won or lost", param="outcome")
        if dispute["status"] not in DISPUTE_OPEN:
            raise invalid_request(f"This dispute is already closed ({dispute['status']}).")
        scope = dispute["_scope"]
        before = copy.deepcopy(public_view(dispute))
        dispute["status"] = outcome
        if outcome == "won":
            txn = self.add_balance_transaction(
                scope, amount=dispute["amount"], fee=-DISPUTE_FEE, source=dispute["id"],
                txn_type="adjustment", reporting_category="dispute_reversal",
                description=f"Chargeback reversal for {dispute['charge']}",
                fee_details=[{"amount": -DISPUTE_FEE, "application": None,
                              "currency": CURRENCY, "description": "Dispute fee refund",
                              "type": "stripe_fee"}])
            dispute["balance_transactions"].append(self.render(txn))
            self.emit("charge.dispute.funds_reinstated", dispute, scope)
        after = public_view(dispute)
        previous = {key: value for key, value in before.items() if after.get(key) != value}
        self.emit("charge.dispute.closed", dispute, scope, previous_attributes=previous)
        return dispute

    # =====================================================================================
    # Events and webhook endpoints
    # =====================================================================================
    def retrieve_event(self, req: Request) -> dict[str, Any]:
        return self.find("event", req.path_args["id"], req.scope, param="id")

    def list_events(self, req: Request) -> dict[str, Any]:
        items = list(self.store.all("event", req.scope))
        wanted = set(as_list(req.params, "types"))
        if req.params.get("type"):
            wanted.add(req.params["type"])
        if wanted:
            items = [e for e in items if e["type"] in wanted or any(
                w.endswith("*") and e["type"].startswith(w[:-1]) for w in wanted)]
        return self.list_response(req, items, "/v1/events")

    def create_webhook_endpoint(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        params = req.params
        if not params.get("url"):
            raise missing_param("url")
        events = as_list(params, "enabled_events")
        if not events:
            raise missing_param("enabled_events")
        endpoint = self.new_webhook_endpoint(
            params["url"], enabled_events=events, connect=as_bool(params, "connect"),
            description=params.get("description"),
            metadata=merge_metadata({}, params.get("metadata")))
        return {**endpoint, "secret": endpoint["_secret"]}

    def new_webhook_endpoint(self, url: str, *, secret: str | None = None, connect: bool = False,
                             enabled_events: list[str] | None = None,
                             description: str | None = None,
                             metadata: dict | None = None) -> dict[str, Any]:
        endpoint = from_fixture(
            "webhook_endpoint", id=new_id("we"), url=url, created=self.now(),
            enabled_events=list(enabled_events or ["*"]), status="enabled",
            description=description, metadata=metadata or {},
            api_version=None)
        endpoint["_secret"] = secret or f"whsec_{new_secret(32)}"
        endpoint["_connect"] = connect
        # Stripe only shows "application" for Connect endpoints; keep the key, typed the same.
        endpoint["application"] = APPLICATION_ID if connect else None
        return self.store.add(endpoint, PLATFORM)

    def retrieve_webhook_endpoint(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        endpoint = self.find("webhook_endpoint", req.path_args["id"], PLATFORM)
        if endpoint.get("_deleted"):
            raise missing_resource("webhook_endpoint", endpoint["id"])
        return endpoint

    def update_webhook_endpoint(self, req: Request) -> dict[str, Any]:
        endpoint = self.retrieve_webhook_endpoint(req)
        params = req.params
        if params.get("url"):
            endpoint["url"] = params["url"]
        if "enabled_events" in params:
            endpoint["enabled_events"] = as_list(params, "enabled_events")
        if "disabled" in params:
            endpoint["status"] = "disabled" if as_bool(params, "disabled") else "enabled"
        if "description" in params:
            endpoint["description"] = params["description"] or None
        if "metadata" in params:
            endpoint["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
        return endpoint

    def delete_webhook_endpoint(self, req: Request) -> dict[str, Any]:
        endpoint = self.retrieve_webhook_endpoint(req)
        endpoint["_deleted"] = True
        return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}

    def list_webhook_endpoints(self, req: Request) -> dict[str, Any]:
        self.require_platform(req)
        items = [e for e in self.store.all("webhook_endpoint", PLATFORM) if not e.get("_deleted")]
        return self.list_response(req, items, "/v1/webhook_endpoints")
