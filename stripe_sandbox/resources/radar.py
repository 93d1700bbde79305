"""Radar's early fraud warnings: the card's bank reports a charge as fraud before any dispute.

What Stripe does, and the sandbox with it (docs/sandbox.md has the table):

* The test card 4000000000005423 (``pm_card_createIssuerFraudRecord``): "charge succeeds, only to
  receive an early fraud warning" (https://docs.stripe.com/testing#disputes). The warning is a
  ``radar.early_fraud_warning`` on the charge's account, announced by
  ``radar.early_fraud_warning.created`` (a Connect event for a direct charge).
* ``actionable`` is true while the charge "has not received a dispute and has not been fully
  refunded"; when either happens it turns false and ``radar.early_fraud_warning.updated`` is sent
  (https://docs.stripe.com/api/radar/early_fraud_warnings/object).
* ``GET /v1/radar/early_fraud_warnings/:id`` and the list (filters ``charge``,
  ``payment_intent``) (https://docs.stripe.com/api/radar/early_fraud_warnings/list).
"""

from __future__ import annotations

import copy
from typing import Any

from ..messages import Request
from ..objects import card_details, from_fixture, new_id
from ..store import public_view
from .base import ApiBase

KIND = "radar.early_fraud_warning"
TEST_CARD_FRAUD_TYPE = "made_with_stolen_card"


class RadarApi(ApiBase):
    def raise_early_fraud_warning(self, charge: dict[str, Any], *,
                                  fraud_type: str = TEST_CARD_FRAUD_TYPE) -> dict[str, Any]:
        warning = from_fixture(KIND, id=new_id("issfr"), charge=charge["id"], created=self.now(),
                               fraud_type=fraud_type, actionable=self._actionable(charge),
                               payment_intent=charge["payment_intent"])
        self.store.add(warning, charge["_scope"])
        self.emit("radar.early_fraud_warning.created", warning, charge["_scope"])
        return warning

    def raise_test_card_fraud_warning(self, charge: dict[str, Any], payment_method: dict[str, Any]) -> None:
        if card_details(payment_method.get("_card_number") or "").get("early_fraud_warning"):
            self.raise_early_fraud_warning(charge)

    def _actionable(self, charge: dict[str, Any]) -> bool:
        return not charge["disputed"] and not charge["refunded"]

    def refresh_early_fraud_warnings(self, charge: dict[str, Any]) -> None:
        """A dispute or a full refund makes the charge's warnings no longer actionable."""
        for warning in self.store.all(KIND, charge["_scope"]):
            if warning["charge"] != charge["id"] or warning["actionable"] == self._actionable(charge):
                continue
            before = copy.deepcopy(public_view(warning))
            warning["actionable"] = self._actionable(charge)
            self.emit("radar.early_fraud_warning.updated", warning, charge["_scope"],
                      previous_attributes={"actionable": before["actionable"]})

    def retrieve_early_fraud_warning(self, req: Request) -> dict[str, Any]:
        return self.find(KIND, req.path_args["id"], req.scope, param="early_fraud_warning")

    def list_early_fraud_warnings(self, req: Request) -> dict[str, Any]:
        items = list(self.store.all(KIND, req.scope))
        for name in ("charge", "payment_intent"):
            if req.params.get(name):
                items = [w for w in items if w[name] == req.params[name]]
        return self.list_response(req, items, "/v1/radar/early_fraud_warnings")
