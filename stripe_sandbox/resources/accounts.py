"""Connected accounts, onboarding and requirements, account links and login links."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import StripeError, invalid_request, missing_param, missing_resource
from ..forms import as_bool, merge_metadata
from ..messages import Request
from ..objects import (
    empty_list,
    from_fixture,
    new_id,
    new_secret,
)
from ..store import PLATFORM, public_view
from .base import (
    APPLICATION_ID,
    CURRENCY,
    DEFAULT_CURRENCY_BY_COUNTRY,
    EURO_COUNTRIES,
    INCOMPLETE_ONBOARDING_REQUIREMENTS,
    NEW_ACCOUNT_REQUIREMENTS,
    ApiBase,
    _requirements,
    minimum_delay_days,
)


class AccountsApi(ApiBase):
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
        controller = self._controller_from_params(params)
        account_type = params.get("type") or _type_for_controller(controller)
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
            controller=(_controller_for_type(account_type) if controller is None
                        else _controller_as_given(controller)),
        )
        account["tos_acceptance"] = {"date": None, "ip": None, "user_agent": None}
        account["settings"]["payouts"]["schedule"] = {
            "delay_days": minimum_delay_days(country), "interval": "daily"}
        self._apply_account_params(account, params)
        self.store.add(account, PLATFORM)
        return account

    def _controller_from_params(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """``controller[...]`` as Stripe accepts it at API version 2026-08-26.dahlia.

        Stripe fills what is not given with the lowest-requirement defaults (fees.payer
        ``account``, losses.payments ``stripe``, stripe_dashboard ``full``, requirement_collection
        ``stripe``) and refuses combinations it does not support. An Express dashboard needs
        the platform to pay the fees and to be liable for losses in this version (Stripe-liable
        Express arrived with 2026-11-18.endive):
        https://docs.stripe.com/connect/migrate-to-controller-properties
        """
        raw = params.get("controller")
        if raw in (None, ""):
            return None
        if not isinstance(raw, dict):
            raise invalid_request("Invalid object", param="controller")
        fees = str(((raw.get("fees") or {}).get("payer")) or "account")
        losses = str(((raw.get("losses") or {}).get("payments")) or "stripe")
        dashboard = str(((raw.get("stripe_dashboard") or {}).get("type")) or "full")
        collection = str(raw.get("requirement_collection") or "stripe")
        for param, value, allowed in (
                ("controller[fees][payer]", fees, ("account", "application")),
                ("controller[losses][payments]", losses, ("application", "stripe")),
                ("controller[stripe_dashboard][type]", dashboard, ("express", "full", "none")),
                ("controller[requirement_collection]", collection, ("application", "stripe"))):
            if value not in allowed:
                raise invalid_request(f"Invalid {param}: must be one of {', '.join(allowed)}",
                                      param=param)
        if dashboard == "express" and (fees != "application" or losses != "application"):
            raise invalid_request(
                "Accounts with access to the Express Dashboard must have the platform pay Stripe "
                "fees (controller[fees][payer]=application) and be liable for negative balances "
                "(controller[losses][payments]=application).", param="controller")
        if dashboard == "full" and (fees != "account" or losses != "stripe"):
            raise invalid_request(
                "Accounts with access to the full Stripe Dashboard must pay their own fees and "
                "leave losses to Stripe.", param="controller")
        if collection == "application" and dashboard != "none":
            raise invalid_request(
                "requirement_collection=application needs controller[stripe_dashboard][type]=none.",
                param="controller[requirement_collection]")
        return {"fees": fees, "losses": losses, "dashboard": dashboard, "collection": collection}

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
        self.deauthorize(account["id"], deleted=True)
        return {"id": account["id"], "object": "account", "deleted": True}

    def deauthorize(self, account_id: str, *, deleted: bool = False) -> dict[str, Any]:
        """The platform loses the account: deleted by the platform, or disconnected.

        Stripe then sends ``account.application.deauthorized`` to the Connect endpoints (the
        event's ``account`` is the lost account, its object the platform's application,
        https://docs.stripe.com/api/events/types#event_types-account.application.deauthorized)
        and refuses every later read of the account: ``Stripe-Account`` calls answer 403
        ``account_invalid`` and ``GET /v1/accounts/:id`` answers 404 ``resource_missing``.
        """
        account = self.connected_account(account_id)
        platform = self.platform_account()
        application = from_fixture("application", id=APPLICATION_ID,
                                   name=platform["business_profile"].get("name"))
        application["_scope"] = account["id"]
        self.emit("account.application.deauthorized", application, account["id"])
        account["_deleted"] = True
        account["_deauthorized_at"] = self.now()
        if deleted:
            account["_deleted_by_platform"] = True
        return account

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
                            account_number: str = "000123456789",
                            collection_options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Submitting the onboarding form. It collects what the link's collection_options asked
        for (https://docs.stripe.com/api/account_links/create): currently_due by default, also
        eventually_due with fields=eventually_due, and future_requirements with
        future_requirements=include; what it did not ask for stays due."""
        account = self.connected_account(account_id)
        before = copy.deepcopy(public_view(account))
        options = collection_options or {}
        previous = account["requirements"]
        eventually_left = [] if options.get("fields") == "eventually_due" else [
            key for key in previous.get("eventually_due") or []
            if key not in (previous.get("currently_due") or [])
            and key not in (previous.get("past_due") or [])]
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
            account["requirements"] = _requirements([], eventually_due=eventually_left)
            if options.get("future_requirements") == "include":
                account["future_requirements"] = _requirements([])
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
                         current_deadline: int | None = None,
                         errors: list[dict[str, Any]] | None = None,
                         future_requirements: dict[str, Any] | None = None) -> dict[str, Any]:
        """Put an account in the state Stripe would after a verification check.

        Anything past due (or a disabled_reason) disables charges and payouts unless told
        otherwise; clearing everything enables them again. Requirements currently due with a
        `current_deadline` (or only eventually due, or erroneous) leave the account enabled
        until the deadline, as Stripe does. `future_requirements` ({currently_due,
        eventually_due, current_deadline, errors}) replaces the announced ones; None keeps them.
        """
        account = self.connected_account(account_id)
        before = copy.deepcopy(public_view(account))
        past_due = list(past_due or [])
        currently_due = list(currently_due if currently_due is not None else past_due)
        if past_due and not disabled_reason:
            disabled_reason = "requirements.past_due"
        account["requirements"] = _requirements(
            currently_due, past_due=past_due, disabled_reason=disabled_reason or None,
            eventually_due=eventually_due, current_deadline=current_deadline, errors=errors)
        if future_requirements is not None:
            account["future_requirements"] = _requirements(
                list(future_requirements.get("currently_due") or []),
                eventually_due=future_requirements.get("eventually_due"),
                current_deadline=future_requirements.get("current_deadline"),
                errors=future_requirements.get("errors"))
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
        options = params.get("collection_options") or {}
        if not isinstance(options, dict):
            raise invalid_request("Invalid collection_options: must be a hash",
                                  param="collection_options")
        for name, allowed in (("fields", ("currently_due", "eventually_due")),
                              ("future_requirements", ("include", "omit"))):
            if name in options and options[name] not in allowed:
                raise invalid_request(f"Invalid collection_options[{name}]: must be one of "
                                      + ", ".join(allowed), param=f"collection_options[{name}]")
        created = self.now()
        token = new_secret(24)
        self.store.tokens[token] = {
            "kind": "account_link", "account": account["id"], "created": created,
            "expires_at": created + 300, "refresh_url": params["refresh_url"],
            "return_url": params["return_url"], "state": "new",
            "collection_options": dict(options),
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


def _controller_for_type(account_type: str) -> dict[str, Any]:
    """The controller properties Stripe reports for an account made with a legacy ``type``
    (https://docs.stripe.com/connect/migrate-to-controller-properties)."""
    if account_type == "standard":
        return {"fees": {"payer": "account"}, "is_controller": True,
                "losses": {"payments": "stripe"}, "requirement_collection": "stripe",
                "stripe_dashboard": {"type": "full"}, "type": "application"}
    if account_type == "custom":
        return {"fees": {"payer": "application_custom"}, "is_controller": True,
                "losses": {"payments": "application"}, "requirement_collection": "application",
                "stripe_dashboard": {"type": "none"}, "type": "application"}
    return {"fees": {"payer": "application_express"}, "is_controller": True,
            "losses": {"payments": "application"}, "requirement_collection": "stripe",
            "stripe_dashboard": {"type": "express"}, "type": "application"}


def _controller_as_given(controller: dict[str, Any]) -> dict[str, Any]:
    """What Stripe reports for an account made with ``controller[...]``: the values given, so
    ``fees.payer`` is ``application`` (not the legacy ``application_express``), and with it the
    platform pays Stripe's processing and dispute fees on direct charges
    (https://docs.stripe.com/connect/direct-charges-fee-payer-behavior)."""
    return {"fees": {"payer": controller["fees"]}, "is_controller": True,
            "losses": {"payments": controller["losses"]},
            "requirement_collection": controller["collection"],
            "stripe_dashboard": {"type": controller["dashboard"]}, "type": "application"}


def platform_pays_stripe_fees(account: dict[str, Any] | None) -> bool:
    """Whether Stripe takes its processing and dispute fees for this account's direct charges
    from the platform's balance. Only ``fees.payer=application`` does; ``account`` and the
    legacy ``application_express`` / ``application_custom`` leave them with the connected
    account (https://docs.stripe.com/connect/direct-charges-fee-payer-behavior, the table of
    fee payer behaviors)."""
    controller = (account or {}).get("controller") or {}
    return (controller.get("fees") or {}).get("payer") == "application"


def _type_for_controller(controller: dict[str, Any] | None) -> str:
    if controller is None:
        return "express"  # the sandbox's old default when neither type nor controller is given
    if controller["dashboard"] == "express":
        return "express"
    if controller["dashboard"] == "full":
        return "standard"
    return "custom"
