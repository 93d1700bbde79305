"""Disputes: opening, evidence, closing and the card network's decision."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import invalid_request
from ..forms import as_bool, merge_metadata
from ..messages import Request
from ..objects import (
    from_fixture,
    new_id,
)
from ..store import public_view
from .base import (
    CURRENCY,
    DISPUTE_EVIDENCE_FIELDS,
    DISPUTE_FEE,
    DISPUTE_OPEN,
    ApiBase,
)


class DisputesApi(ApiBase):
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
