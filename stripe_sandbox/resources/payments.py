"""Balance, payment methods, PaymentIntents, charges and application fees."""

from __future__ import annotations

import copy
import datetime
from typing import Any

from ..errors import StripeError, invalid_request, missing_param, missing_resource
from ..forms import as_bool, as_int, as_list, merge_metadata
from ..messages import Request
from ..objects import (
    TEST_PAYMENT_METHODS,
    card_details,
    empty_list,
    from_fixture,
    luhn_valid,
    new_id,
    new_secret,
)
from ..store import PLATFORM
from .accounts import platform_pays_stripe_fees
from .base import (
    APPLICATION_ID,
    CURRENCY,
    MAX_AMOUNT,
    MIN_AMOUNT,
    PAYMENT_INTENT_OPEN,
    PLATFORM_FEE_DELAY_DAYS,
    ApiBase,
    stripe_processing_fee,
)


class PaymentsApi(ApiBase):
    def balance_amounts(self, scope: str) -> tuple[int, int]:
        """(available, pending) of ``scope``; pending money whose ``available_on`` has passed
        becomes available now, and a connected account is told so (``balance.available``)."""
        available = pending = 0
        now = self.now()
        became_available = False
        for txn in self.store.all("balance_transaction", scope):
            if txn["status"] == "pending" and txn["available_on"] <= now:
                txn["status"] = "available"
                became_available = True
            if txn["status"] == "available":
                available += txn["net"]
            else:
                pending += txn["net"]
        if became_available and scope != PLATFORM:
            self._emit_balance_available(scope, available, pending)
        return available, pending

    def balance_object(self, scope: str, available: int, pending: int) -> dict[str, Any]:
        """Stripe's balance object. Like Stripe, an amount may be negative: refunds and disputes
        are taken from the balance even when it does not hold enough
        (https://docs.stripe.com/connect/account-balances#negative-balances)."""
        return from_fixture(
            "balance",
            available=[{"amount": available, "currency": CURRENCY,
                        "source_types": {"card": available}}],
            pending=[{"amount": pending, "currency": CURRENCY, "source_types": {"card": pending}}],
            connect_reserved=[{"amount": 0, "currency": CURRENCY}],
        )

    def _emit_balance_available(self, scope: str, available: int, pending: int) -> None:
        """``balance.available`` on a connected account (a Connect event), with the balance."""
        self.emit("balance.available", self.balance_object(scope, available, pending), scope)

    def retrieve_balance(self, req: Request) -> dict[str, Any]:
        available, pending = self.balance_amounts(req.scope)
        return self.balance_object(req.scope, available, pending)

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
        self.store.add(txn, scope)
        if txn["status"] == "available" and txn["net"] > 0 and scope != PLATFORM:
            # Money credited at once (a won dispute's reversal). Stripe's event reference:
            # balance.available "is not fired for negative transactions", so a refund or a
            # dispute's debit is not reported this way, even when it takes the balance below zero.
            available, pending = self.balance_amounts(scope)
            self._emit_balance_available(scope, available, pending)
        return txn

    def add_platform_stripe_fee(self, amount: int, *, source: str, account: str,
                                description: str) -> dict[str, Any]:
        """Stripe's fee for a connected account's direct charge, taken from the platform's
        balance because the account has ``controller.fees.payer=application``
        (https://docs.stripe.com/connect/direct-charges-fee-payer-behavior). A negative amount
        gives a fee back (a won dispute)."""
        return self.add_balance_transaction(
            PLATFORM, amount=-amount, source=source, txn_type="stripe_fee",
            reporting_category="fee", description=f"{description} ({account})")

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
        _check_statement_descriptor_suffix(params.get("statement_descriptor_suffix"))
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
        return self.succeed_payment(pi, pm, scope)

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
        platform_pays = scope != PLATFORM and platform_pays_stripe_fees(self.store.get(scope))
        fee_details = [] if platform_pays else [
            {"amount": processing_fee, "application": None, "currency": CURRENCY,
             "description": "Stripe processing fees", "type": "stripe_fee"}]
        if fee_amount:
            fee_details.append({"amount": fee_amount, "application": APPLICATION_ID,
                                "currency": CURRENCY, "description": "Application fee",
                                "type": "application_fee"})
        txn = self.add_balance_transaction(
            scope, amount=amount, fee=(0 if platform_pays else processing_fee) + fee_amount,
            fee_details=fee_details, source=charge["id"], txn_type="charge",
            reporting_category="charge", description=pi["description"],
            delay_days=self._delay_days(scope))
        charge["balance_transaction"] = txn["id"]
        if platform_pays:
            self.add_platform_stripe_fee(processing_fee, source=charge["id"], account=scope,
                                         description="Stripe processing fees")
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
        else:
            self.open_test_card_dispute(charge, pm)  # Stripe's dispute test cards
        self.raise_test_card_fraud_warning(charge, pm)  # and its early fraud warning card
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
        """Every refund of one fee, newest first, paged like any list; Stripe's list takes no
        ``created`` filter (https://docs.stripe.com/api/fee_refunds/list)."""
        fee = self.find("application_fee", req.path_args["id"], req.scope)
        if "created" in req.params:
            raise invalid_request("Received unknown parameter: created", param="created")
        items = [r for r in self.store.all("fee_refund", fee["_scope"]) if r["fee"] == fee["id"]]
        return self.list_response(req, items, f"/v1/application_fees/{fee['id']}/refunds")


def _check_statement_descriptor_suffix(suffix: Any) -> None:
    """Stripe's rules for a card statement descriptor: Latin characters, none of < > \\ ' " *,
    at least one letter, and prefix + "* " + suffix in 22 characters; the sandbox's accounts
    have no prefix of their own, so it holds the suffix to the room left by the longest prefix
    (10) (https://docs.stripe.com/get-started/account/statement-descriptors)."""
    if suffix in (None, ""):
        return
    text = str(suffix)
    param = "statement_descriptor_suffix"
    if not text.isascii() or any(ch in text for ch in "<>\\'\"*"):
        raise invalid_request("Invalid statement_descriptor_suffix: only Latin characters, and "
                              "none of < > \\ ' \" *.", param=param)
    if not any(ch.isalpha() for ch in text):
        raise invalid_request("statement_descriptor_suffix must contain at least one letter.",
                              param=param)
    if len(text) > 22 - 10 - 2:
        raise invalid_request("The statement descriptor (prefix, '* ' and suffix) must be at "
                              "most 22 characters.", param=param)
