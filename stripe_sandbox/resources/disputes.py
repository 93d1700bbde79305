"""Disputes: opening, evidence, closing and the card network's decision.

What Stripe does, and the sandbox with it (docs/sandbox.md has the table):

* A chargeback (``needs_response``) takes the disputed amount plus the dispute fee from the
  account at once (``charge.dispute.created`` then ``charge.dispute.funds_withdrawn``). An
  inquiry (``warning_needs_response``, ``payment_method_details.card.case_type = inquiry``)
  moves no money and leaves the charge refundable.
  https://docs.stripe.com/disputes/how-disputes-work
* ``POST /v1/disputes/:id`` stages evidence with ``submit=false`` and sends it to the bank
  with ``submit=true`` (Stripe's default): ``needs_response`` becomes ``under_review`` and
  ``warning_needs_response`` becomes ``warning_under_review``; evidence cannot change after.
  https://docs.stripe.com/api/disputes/update
* In test mode the evidence text decides the outcome: ``winning_evidence`` closes the dispute
  as won (money and fee back, ``charge.dispute.funds_reinstated``), ``losing_evidence`` as lost.
  https://docs.stripe.com/testing#disputes . For an inquiry, winning closes it as
  ``warning_closed``; losing escalates it to a chargeback (``needs_response``, money taken),
  which is what an unsatisfied issuer does next.
* The evidence's file fields (``receipt``, ``shipping_documentation``, ``customer_communication``,
  ``uncategorized_file``, …) take "the ID of a file upload": a ``dispute_evidence`` file of the
  dispute's own account (stripe_sandbox/resources/files.py); another id is a 400 naming the field.
  https://docs.stripe.com/api/disputes/update#update_dispute-evidence-receipt
* ``POST /v1/disputes/:id/close`` accepts the dispute: it is lost, for good. An inquiry had no
  money taken, so closing one moves none (and the charge stays refundable).
  https://docs.stripe.com/api/disputes/close
* A refund during an inquiry is allowed (``is_charge_refundable``); once the charge is fully
  refunded, an escalation withdraws no funds. https://docs.stripe.com/api/disputes/object
* ``prevented`` (sandbox route only): the inquiry is settled by a refund of what is left
  (case type ``resolution``), with no dispute fee.
* Not answered by ``evidence_details.due_by``: a chargeback is lost automatically
  (https://docs.stripe.com/disputes/responding); the sandbox lets an unanswered inquiry become
  a chargeback instead, as an issuer without an answer does. The sandbox clock decides
  (``Sandbox.advance_time``).
* Test cards (https://docs.stripe.com/testing#disputes): 4000000000000259 fraudulent
  chargeback, 4000000000002685 product not received, 4000000000001976 inquiry.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import invalid_request
from ..forms import as_bool, merge_metadata
from ..messages import Request
from ..objects import (
    card_details,
    from_fixture,
    new_id,
)
from ..store import public_view
from .accounts import platform_pays_stripe_fees
from .base import (
    CURRENCY,
    DISPUTE_EVIDENCE_FIELDS,
    DISPUTE_EVIDENCE_FILE_FIELDS,
    DISPUTE_FEE,
    DISPUTE_OPEN,
    ApiBase,
)

# Evidence text Stripe's test mode reads to decide a submitted dispute.
WINNING_EVIDENCE = "winning_evidence"
LOSING_EVIDENCE = "losing_evidence"
EVIDENCE_DAYS = 7
# What the sandbox's /_sandbox/disputes/:id/resolve helper may decide: the network's verdict on
# a chargeback (won, lost), an inquiry closed without a chargeback (warning_closed), or one
# stopped before it became a chargeback (prevented, Stripe's dispute prevention).
OUTCOMES = ("won", "lost", "warning_closed", "prevented")
NEEDS_RESPONSE = ("needs_response", "warning_needs_response")


def _is_inquiry(dispute: dict[str, Any]) -> bool:
    return dispute["status"].startswith("warning_")


class DisputesApi(ApiBase):
    def open_dispute(self, charge: dict[str, Any], *, reason: str = "fraudulent",
                     amount: int | None = None, inquiry: bool = False) -> dict[str, Any]:
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
        pm_card = charge["payment_method_details"]["card"]
        dispute = from_fixture(
            "dispute", id=dispute_id, amount=amount, balance_transactions=[],
            charge=charge["id"], created=self.now(), currency=charge["currency"],
            evidence_details={"due_by": self.now() + EVIDENCE_DAYS * 86400, "has_evidence": False,
                              "past_due": False, "submission_count": 0,
                              "enhanced_eligibility": {}},
            is_charge_refundable=inquiry, metadata={}, payment_intent=charge["payment_intent"],
            payment_method_details={"card": {
                "brand": pm_card["brand"], "case_type": "inquiry" if inquiry else "chargeback",
                "network_reason_code": "10" if inquiry else "10.4",
                "network": pm_card["network"]}, "type": "card"},
            reason=reason, status="warning_needs_response" if inquiry else "needs_response",
        )
        self.store.add(dispute, scope)
        charge["disputed"] = True
        self.refresh_early_fraud_warnings(charge)
        if not inquiry:
            self._withdraw_funds(dispute)
        self.emit("charge.dispute.created", dispute, scope)
        if not inquiry:
            self.emit("charge.dispute.funds_withdrawn", dispute, scope)
        return dispute

    def open_test_card_dispute(self, charge: dict[str, Any], payment_method: dict[str, Any]) -> None:
        """A payment with one of Stripe's dispute test cards is disputed right after it succeeds."""
        card = card_details(payment_method["_card_number"])
        if card["behaviour"] == "dispute":
            self.open_dispute(charge, reason=card.get("dispute_reason", "fraudulent"),
                              inquiry=card.get("dispute_inquiry", False))

    def _dispute_fee_on_platform(self, dispute: dict[str, Any]) -> bool:
        """With ``controller.fees.payer=application`` Stripe takes the dispute fee from the
        platform, the disputed amount still from the connected account
        (https://docs.stripe.com/connect/direct-charges-fee-payer-behavior)."""
        return platform_pays_stripe_fees(self.store.get(dispute["_scope"]))

    def _withdraw_funds(self, dispute: dict[str, Any]) -> None:
        on_platform = self._dispute_fee_on_platform(dispute)
        fee = 0 if on_platform else DISPUTE_FEE
        txn = self.add_balance_transaction(
            dispute["_scope"], amount=-dispute["amount"], fee=fee, source=dispute["id"],
            txn_type="adjustment", reporting_category="dispute",
            description=f"Chargeback withdrawal for {dispute['charge']}",
            fee_details=[{"amount": fee, "application": None, "currency": CURRENCY,
                          "description": "Dispute fee", "type": "stripe_fee"}] if fee else [])
        dispute["balance_transactions"].append(self.render(txn))
        if on_platform:
            self.add_platform_stripe_fee(DISPUTE_FEE, source=dispute["id"],
                                         account=dispute["_scope"], description="Dispute fee")

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
            if dispute["status"] not in NEEDS_RESPONSE:
                raise invalid_request(
                    f"This dispute is already {dispute['status']}; evidence can no longer be "
                    "changed.", param="evidence")
            if not isinstance(evidence, dict):
                raise invalid_request("Invalid evidence: must be an object", param="evidence")
            for key, value in evidence.items():
                if key not in DISPUTE_EVIDENCE_FIELDS:
                    raise invalid_request(f"Received unknown parameter: evidence[{key}]",
                                          param=f"evidence[{key}]")
                if value not in (None, "") and not isinstance(value, str):
                    raise invalid_request(f"Invalid string: evidence[{key}]",
                                          param=f"evidence[{key}]")
                if key in DISPUTE_EVIDENCE_FILE_FIELDS and value:
                    # A file field takes the id of this account's own dispute_evidence upload.
                    self.evidence_file(value, req.scope, param=f"evidence[{key}]")
            for key, value in evidence.items():
                dispute["evidence"][key] = value or None
            dispute["evidence_details"]["has_evidence"] = any(dispute["evidence"].values())
        if "metadata" in params:
            dispute["metadata"] = merge_metadata(dispute["metadata"], params["metadata"])
        submitted = as_bool(params, "submit", default=evidence is not None) and \
            dispute["status"] in NEEDS_RESPONSE
        if submitted:
            dispute["status"] = ("under_review" if dispute["status"] == "needs_response"
                                 else "warning_under_review")
            details = dispute["evidence_details"]
            details["submission_count"] += 1
            details["past_due"] = bool(details["due_by"]) and self.now() > details["due_by"]
        after = public_view(dispute)
        previous = {key: value for key, value in before.items() if after.get(key) != value}
        if previous:
            self.emit("charge.dispute.updated", dispute, req.scope, previous_attributes=previous)
        if submitted:
            self._decide_test_mode(dispute)
        return dispute

    def _decide_test_mode(self, dispute: dict[str, Any]) -> None:
        """Stripe's test mode: the submitted evidence text decides the dispute at once."""
        text = " ".join(str(value) for value in dispute["evidence"].values() if value)
        if WINNING_EVIDENCE in text:
            self.resolve_dispute(dispute, "warning_closed" if _is_inquiry(dispute) else "won")
        elif LOSING_EVIDENCE in text:
            if _is_inquiry(dispute):
                self._escalate(dispute)
            else:
                self.resolve_dispute(dispute, "lost")

    def _escalate(self, dispute: dict[str, Any]) -> None:
        """An inquiry the issuer was not satisfied with becomes a chargeback: money goes."""
        before = copy.deepcopy(public_view(dispute))
        dispute["status"] = "needs_response"
        dispute["is_charge_refundable"] = False
        dispute["payment_method_details"]["card"].update(case_type="chargeback",
                                                         network_reason_code="10.4")
        dispute["evidence_details"]["due_by"] = self.now() + EVIDENCE_DAYS * 86400
        # "After the payment has been fully refunded, no further funds are withdrawn from your
        # Stripe account as a result of this dispute" (is_charge_refundable, dispute object).
        charge = self.store.get(dispute["charge"], dispute["_scope"])
        withdraws = not (charge and charge["refunded"])
        if withdraws:
            self._withdraw_funds(dispute)
        after = public_view(dispute)
        previous = {key: value for key, value in before.items() if after.get(key) != value}
        self.emit("charge.dispute.updated", dispute, dispute["_scope"], previous_attributes=previous)
        if withdraws:
            self.emit("charge.dispute.funds_withdrawn", dispute, dispute["_scope"])

    def expire_disputes(self) -> list[dict[str, Any]]:
        """Disputes left unanswered past their due date: chargebacks lost, inquiries escalated."""
        expired = []
        for dispute in reversed(list(self.store.all("dispute"))):  # oldest first
            due_by = dispute["evidence_details"]["due_by"]
            if dispute["status"] not in NEEDS_RESPONSE or not due_by or self.now() <= due_by:
                continue
            if _is_inquiry(dispute):
                self._escalate(dispute)
            else:
                self.resolve_dispute(dispute, "lost")
            expired.append(dispute)
        return expired

    def close_dispute(self, req: Request) -> dict[str, Any]:
        dispute = self.find("dispute", req.path_args["id"], req.scope, param="dispute")
        if dispute["status"] not in DISPUTE_OPEN:
            raise invalid_request(f"This dispute is already closed ({dispute['status']}).")
        return self.resolve_dispute(dispute, "lost")

    def _prevent_by_refund(self, dispute: dict[str, Any]) -> None:
        """Stripe's prevention with case type ``resolution`` settles the inquiry by refunding the
        buyer before a chargeback: no dispute fee, and the money goes back, so it is not a win
        (https://docs.stripe.com/changelog/basil/2025-08-27/add-preventions-to-dispute)."""
        dispute["payment_method_details"]["card"]["case_type"] = "resolution"
        charge = self.store.get(dispute["charge"], dispute["_scope"])
        if charge and charge["amount"] > charge["amount_refunded"]:
            self.create_refund(Request(method="POST", path="/v1/refunds", scope=dispute["_scope"],
                                       params={"charge": charge["id"]}))

    def resolve_dispute(self, dispute: dict[str, Any], outcome: str) -> dict[str, Any]:
        """Finish a dispute as the card network would: ``won`` returns the money and the fee."""
        if outcome not in OUTCOMES:
            raise invalid_request(f"outcome must be one of {', '.join(OUTCOMES)}", param="outcome")
        if dispute["status"] not in DISPUTE_OPEN:
            raise invalid_request(f"This dispute is already closed ({dispute['status']}).")
        if outcome in ("warning_closed", "prevented") and not _is_inquiry(dispute):
            raise invalid_request(f"Only an inquiry can end as {outcome}; this is a chargeback.",
                                  param="outcome")
        scope = dispute["_scope"]
        if outcome == "prevented":
            self._prevent_by_refund(dispute)
        before = copy.deepcopy(public_view(dispute))
        dispute["status"] = outcome
        if outcome == "won" and dispute["balance_transactions"]:
            on_platform = self._dispute_fee_on_platform(dispute)
            fee = 0 if on_platform else -DISPUTE_FEE
            txn = self.add_balance_transaction(
                scope, amount=dispute["amount"], fee=fee, source=dispute["id"],
                txn_type="adjustment", reporting_category="dispute_reversal",
                description=f"Chargeback reversal for {dispute['charge']}",
                fee_details=[{"amount": fee, "application": None,
                              "currency": CURRENCY, "description": "Dispute fee refund",
                              "type": "stripe_fee"}] if fee else [])
            dispute["balance_transactions"].append(self.render(txn))
            if on_platform:
                self.add_platform_stripe_fee(-DISPUTE_FEE, source=dispute["id"], account=scope,
                                             description="Dispute fee refund")
            self.emit("charge.dispute.funds_reinstated", dispute, scope)
        after = public_view(dispute)
        previous = {key: value for key, value in before.items() if after.get(key) != value}
        self.emit("charge.dispute.closed", dispute, scope, previous_attributes=previous)
        return dispute
