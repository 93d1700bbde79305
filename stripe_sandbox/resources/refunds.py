"""Refunds, with the proportional refund of the application fee."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import invalid_request
from ..forms import as_bool, as_int, merge_metadata
from ..messages import Request
from ..objects import (
    card_details,
    from_fixture,
    new_id,
)
from ..store import PLATFORM
from .base import (
    APPLICATION_ID,
    CURRENCY,
    DISPUTE_OPEN,
    ApiBase,
    round_half_up,
)


class RefundsApi(ApiBase):
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
        # Stripe's `is_charge_refundable` decides: an inquiry's charge can still be refunded, a
        # chargeback's cannot (https://docs.stripe.com/api/disputes/object#dispute_object-is_charge_refundable).
        open_dispute = next((d for d in self.store.all("dispute", scope)
                             if d["charge"] == charge["id"] and d["status"] in DISPUTE_OPEN
                             and not d["is_charge_refundable"]), None)
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
        behaviour = self._refund_behaviour(charge, scope)
        # Stripe takes a refund from the account's *available* balance; when that cannot cover
        # it the refund waits `pending` until funds arrive (https://docs.stripe.com/refunds#pending-refunds
        # and, for Connect, https://docs.stripe.com/connect/direct-charges#issue-refunds).
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
        available, _ = self.balance_amounts(scope)
        waits = behaviour == "pending" or (scope != PLATFORM and available < amount - fee_returned)
        refund = from_fixture(
            "refund", id=refund_id, amount=amount, balance_transaction=None,
            charge=charge["id"], created=self.now(), currency=charge["currency"],
            metadata=merge_metadata({}, params.get("metadata")),
            payment_intent=charge["payment_intent"], reason=reason or None,
            status="pending" if waits else "succeeded", payment_method=charge["payment_method"],
        )
        refund["_fee_returned"] = fee_returned
        refund["_fails_later"] = behaviour == "fail"
        refund["_waits_for_card"] = behaviour == "pending"
        if not waits:
            self._book_refund(refund, scope)
        self.store.add(refund, scope)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self.emit("refund.created", refund, scope)
        self.emit("charge.refunded", charge, scope)
        self.refresh_early_fraud_warnings(charge)
        if fee_refund is not None:
            fee = self.store.get(fee_refund["fee"])
            self.emit("application_fee.refunded", fee, PLATFORM)
        return refund

    def _refund_behaviour(self, charge: dict[str, Any], scope: str) -> str:
        """"pending" / "fail" for Stripe's refund test cards, "" otherwise."""
        pm = self.store.get(charge.get("payment_method") or "", scope)
        if not pm or not pm.get("_card_number"):
            return ""
        return card_details(pm["_card_number"]).get("refund", "")

    def _book_refund(self, refund: dict[str, Any], scope: str) -> None:
        """The refund leaves the account's balance (with the platform fee it gave back)."""
        charge = self.store.get(refund["charge"], scope)
        fee_returned = refund.get("_fee_returned") or 0
        fee_details = [{"amount": -fee_returned, "application": APPLICATION_ID,
                        "currency": CURRENCY, "description": "Application fee refund",
                        "type": "application_fee"}] if fee_returned else []
        txn = self.add_balance_transaction(
            scope, amount=-refund["amount"], fee=-fee_returned, fee_details=fee_details,
            source=refund["id"], txn_type="refund", reporting_category="refund",
            description="REFUND FOR CHARGE" + (f" ({charge['description']})"
                                               if charge and charge["description"] else ""))
        refund["balance_transaction"] = txn["id"]

    def settle_refunds(self, refund_id: str | None = None) -> list[dict[str, Any]]:
        """What time does to refunds ("some time later" in Stripe's test docs): a pending refund
        whose account can now cover it succeeds; a refund of the refund-failure card fails,
        giving the money back to the account and the charge. Naming one refund settles it even
        if the balance cannot cover it (as if the seller had added funds). Returns the refunds
        that moved."""
        moved = []
        for refund in list(self.store.all("refund")):
            if refund_id and refund["id"] != refund_id:
                continue
            scope = refund.get("_scope") or PLATFORM
            previous = {"status": refund["status"]}
            if refund["status"] == "pending":
                available, _ = self.balance_amounts(scope)
                needed = refund["amount"] - (refund.get("_fee_returned") or 0)
                if not (refund_id or refund.get("_waits_for_card")) and available < needed:
                    continue  # still waiting for funds (naming the refund settles it anyway)
                self._book_refund(refund, scope)
                refund["status"] = "succeeded"
                refund["_waits_for_card"] = False
            elif refund["status"] == "succeeded" and refund.get("_fails_later"):
                charge = self.store.get(refund["charge"], scope)
                # The money comes back to the account (and off the charge's refunded total).
                self.add_balance_transaction(
                    scope, amount=refund["amount"], source=refund["id"], txn_type="refund_failure",
                    reporting_category="refund_failure", description="REFUND FAILURE")
                charge["amount_refunded"] = max(0, charge["amount_refunded"] - refund["amount"])
                charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
                refund["status"] = "failed"
                refund["failure_reason"] = "expired_or_canceled_card"
                refund["_fails_later"] = False
            else:
                continue
            self.emit("charge.refund.updated", refund, scope, previous_attributes=previous)
            self.emit("refund.updated", refund, scope, previous_attributes=previous)
            if refund["status"] == "failed":
                self.emit("refund.failed", refund, scope, previous_attributes=previous)
            moved.append(refund)
        return moved

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
