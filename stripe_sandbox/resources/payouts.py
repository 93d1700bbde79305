"""Automatic payouts of connected accounts, on each account's payout schedule.

Stripe pays a connected account's *available* balance out to its bank account on the schedule
in ``settings.payouts.schedule`` (``interval`` daily, weekly on ``weekly_anchor``, monthly on
``monthly_anchor``, or manual: never by itself;
https://docs.stripe.com/connect/manage-payout-schedule). A payout is an object of its own
(https://docs.stripe.com/api/payouts/object): made ``pending`` with ``payout.created``, and
``paid`` on its ``arrival_date`` with ``payout.paid``; its balance transaction (type
``payout``) takes the amount out of the available balance when it is made.

The sandbox runs the schedule at midnight UTC of each day its clock passes
(:meth:`PayoutsApi.payouts_run`, called by ``Sandbox.advance_time`` when the sandbox was made
with ``automatic_payouts=True``), and a payout arrives two days after it was made. Not modelled:
weekends and bank holidays, ``in_transit``, failed payouts, instant and manual (API) payouts.
"""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from ..messages import Request
from ..objects import from_fixture, new_id
from ..store import PLATFORM
from .base import CURRENCY, ApiBase

DAY = 86400
ARRIVAL_DAYS = 2
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _midnights(after: int, until: int) -> list[int]:
    """Every UTC midnight in (after, until]."""
    first = (after // DAY + 1) * DAY
    return list(range(first, until + 1, DAY))


def is_payout_day(schedule: dict[str, Any], moment: int) -> bool:
    """Does ``schedule`` pay out at the UTC midnight ``moment``? A monthly anchor past the end
    of a shorter month pays on its last day, as Stripe does."""
    day = datetime.datetime.fromtimestamp(moment, datetime.UTC).date()
    interval = schedule.get("interval") or "daily"
    if interval == "daily":
        return True
    if interval == "weekly":
        return WEEKDAYS[day.weekday()] == (schedule.get("weekly_anchor") or "monday")
    if interval == "monthly":
        anchor = int(schedule.get("monthly_anchor") or 1)
        return day.day == min(anchor, calendar.monthrange(day.year, day.month)[1])
    return False  # manual


class PayoutsApi(ApiBase):
    def list_payouts(self, req: Request) -> dict[str, Any]:
        items = list(self.store.all("payout", req.scope))
        if req.params.get("status"):
            items = [p for p in items if p["status"] == req.params["status"]]
        return self.list_response(req, items, "/v1/payouts")

    def retrieve_payout(self, req: Request) -> dict[str, Any]:
        return self.find("payout", req.path_args["id"], req.scope)

    # =====================================================================================
    # The schedule (sandbox clock)
    # =====================================================================================
    def payouts_run(self) -> list[dict[str, Any]]:
        """Bring every connected account's payouts up to the clock: pay out the available
        balance at each scheduled midnight passed since the last run, and mark payouts whose
        arrival date has come as paid. Returns the payouts made."""
        now = self.now()
        made = []
        for account in list(self.store.all("account", PLATFORM)):
            if account.get("_platform") or account.get("_deleted"):
                continue
            since = account.get("_payouts_through") or account["created"]
            account["_payouts_through"] = now
            schedule = account["settings"]["payouts"]["schedule"]
            for moment in _midnights(since, now):
                self._payouts_arrive(account["id"], moment)
                if is_payout_day(schedule, moment):
                    payout = self._payout_available_balance(account, moment)
                    if payout is not None:
                        made.append(payout)
            self._payouts_arrive(account["id"], now)
        return made

    def _available_at(self, scope: str, moment: int) -> int:
        return sum(txn["net"] for txn in self.store.all("balance_transaction", scope)
                   if txn["created"] <= moment and (txn["status"] == "available"
                                                    or txn["available_on"] <= moment))

    def _payout_available_balance(self, account: dict[str, Any], moment: int) -> dict | None:
        scope = account["id"]
        banks = account.get("_external_accounts") or []
        if not account.get("payouts_enabled") or not banks:
            return None
        amount = self._available_at(scope, moment)
        if amount <= 0:
            return None  # a negative balance is covered by later sales first
        payout_id = new_id("po")
        txn = from_fixture(
            "balance_transaction", id=new_id("txn"), amount=-amount, created=moment,
            available_on=moment, currency=CURRENCY, description="STRIPE PAYOUT", fee=0,
            fee_details=[], net=-amount, reporting_category="payout", source=payout_id,
            status="available", type="payout")
        self.store.add(txn, scope)
        payout = from_fixture(
            "payout", id=payout_id, amount=amount, arrival_date=moment + ARRIVAL_DAYS * DAY,
            automatic=True, balance_transaction=txn["id"], created=moment, currency=CURRENCY,
            description="STRIPE PAYOUT", destination=banks[0]["id"], metadata={},
            method="standard", reconciliation_status="in_progress", source_type="card",
            statement_descriptor=None, status="pending", type="bank_account",
            application_fee=None, application_fee_amount=None, failure_balance_transaction=None,
            failure_code=None, failure_message=None, original_payout=None, reversed_by=None,
            trace_id={"status": "pending", "value": None}, payout_method=None)
        self.store.add(payout, scope)
        self.emit("payout.created", payout, scope)
        return payout

    def _payouts_arrive(self, scope: str, moment: int) -> None:
        """Payouts whose arrival date has come are paid, oldest first (``payout.paid``)."""
        for payout in reversed(list(self.store.all("payout", scope))):
            if payout["status"] == "pending" and payout["arrival_date"] <= moment:
                payout.update(status="paid", reconciliation_status="completed",
                              trace_id={"status": "supported", "value": None})
                self.emit("payout.paid", payout, scope, previous_attributes={"status": "pending"})
