"""The seller's money at Stripe: the payout schedule we set once per account, and the balance.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from connect.services.notices import notice_after_commit
from connect.services.rules import as_dict, payout_delay_days_for, require_account
from core.errors import Conflict, DomainError
from marketplace.pricing import format_usd
from payments import stripe_api
from payments.models import AuditEvent
from payments.order_disputes import order_disputes
from payments.services.audit import audit_record

logger = logging.getLogger(__name__)

CURRENCY = "usd"
PAYOUT_SCHEDULE_SET_ACTION = "connect.payout_schedule_set"
PAYOUT_SCHEDULE_CLAIM_SECONDS = 120


def _payout_schedule_after_commit(*, user_id: int, account: dict, actor=None) -> None:
    user = User.objects.get(pk=user_id)
    account_id = user.stripe_account_id
    if account_id != account.get("id") or _payout_schedule_already_set(user=user, account_id=account_id):
        return
    # Two deliveries of the same event committed at once would both get here: a short claim in
    # the shared cache (atomic add) lets one of them call Stripe.
    claim = f"connect:payout-schedule:{account_id}"
    if not cache.add(claim, "claimed", timeout=PAYOUT_SCHEDULE_CLAIM_SECONDS):
        return
    try:
        seller_set_payout_schedule(user=user, account=account, actor=actor)
    except DomainError:
        cache.delete(claim)
        # The status is stored; the schedule is retried on the next sync (return page or event).
        logger.warning("Could not set the payout schedule of %s yet", account_id)


def _payout_schedule_already_set(*, user: User, account_id: str) -> bool:
    return AuditEvent.objects.filter(
        subject_user=user, action=PAYOUT_SCHEDULE_SET_ACTION, data__stripe_account=account_id
    ).exists()


def seller_set_payout_schedule(
    *, user: User, account: Mapping[str, Any] | None = None, actor=None
) -> int | str:
    """Daily payouts after `SELLER_PAYOUT_DELAY_DAYS`, never below the country's minimum.

    Skips the Stripe call when the account already has that delay; records the result once.
    """
    account = as_dict(account)
    country = account.get("country") or user.seller_country
    delay = payout_delay_days_for(country=country, requested_days=settings.SELLER_PAYOUT_DELAY_DAYS)
    current = ((account.get("settings") or {}).get("payouts") or {}).get("schedule") or {}
    if isinstance(delay, str) or current.get("delay_days") != delay or current.get("interval") != "daily":
        stripe_api.account_modify(
            user.stripe_account_id,
            actor=actor,
            subject_user=user,
            settings={"payouts": {"schedule": {"interval": "daily", "delay_days": delay}}},
        )
    audit_record(
        action=PAYOUT_SCHEDULE_SET_ACTION,
        actor=actor,
        subject_user=user,
        message=f"daily, delay_days={delay} ({country})",
        data={"stripe_account": user.stripe_account_id, "delay_days": delay, "country": country},
    )
    return delay


@dataclass(frozen=True)
class SellerBalance:
    """Cents per currency, as Stripe reports them (several entries per currency are summed)."""

    available: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"available": self.available, "pending": self.pending}

    def rows(self) -> list[dict]:
        currencies = sorted({*self.available, *self.pending}) or ["usd"]
        return [
            {
                "currency": currency.upper(),
                "available": _money(self.available.get(currency, 0), currency),
                "pending": _money(self.pending.get(currency, 0), currency),
            }
            for currency in currencies
        ]


def _money(cents: int, currency: str) -> str:
    if currency == "usd":
        return format_usd(cents)
    return f"{cents / 100:,.2f} {currency.upper()}"


def _per_currency(entries: Iterable[Mapping[str, Any]] | None) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in entries or []:
        currency = str(entry.get("currency", "")).lower()
        totals[currency] = totals.get(currency, 0) + int(entry.get("amount") or 0)
    return totals


def seller_balance(*, user: User) -> SellerBalance:
    """The seller's balance read from Stripe now (GET /v1/balance on their account); what it
    says is also recorded on the seller (`seller_balance_record`)."""
    account_id = require_account(user)
    if user.stripe_disconnected_at is not None:
        raise AccountDisconnected()
    balance = as_dict(stripe_api.balance_retrieve(account_id=account_id, actor=user, subject_user=user))
    result = SellerBalance(
        available=_per_currency(balance.get("available")), pending=_per_currency(balance.get("pending"))
    )
    recorded = seller_balance_record(account_id=account_id, balance=result)
    if recorded is not None:  # the caller's instance (request.user) shows what was just stored
        for name in ("stripe_balance_available_cents", "stripe_balance_cents", "stripe_balance_synced_at"):
            setattr(user, name, getattr(recorded, name))
    return result


class AccountDisconnected(Conflict):
    code = "stripe_account_disconnected"
    message = "Your Stripe account is no longer connected to Stub Collector."


BALANCE_NEGATIVE_ACTION = "connect.balance_negative"
BALANCE_COVERED_ACTION = "connect.balance_covered"


@transaction.atomic
def seller_balance_record(*, account_id: str, balance: SellerBalance, stripe_event_id: str = "",
                          actor=None) -> User | None:
    """Store the balance Stripe reported for `account_id` (USD: sellers are US only).

    With direct charges on Express accounts the platform is liable for a balance the seller
    cannot pay back (docs/operations.md). A total (available + pending) below zero blocks new
    orders (User.can_accept_payments) and tells staff and the seller once; a later balance at or
    above zero lifts the block. Idempotent: the same balance twice changes nothing.
    """
    user = (User.objects.select_for_update().filter(stripe_account_id=account_id).first()
            if account_id else None)
    if user is None:
        return None
    available = balance.available.get(CURRENCY, 0)
    total = available + balance.pending.get(CURRENCY, 0)
    was_negative = user.stripe_balance_negative
    user.stripe_balance_available_cents = available
    user.stripe_balance_cents = total
    user.stripe_balance_synced_at = timezone.now()
    user.save(update_fields=["stripe_balance_available_cents", "stripe_balance_cents",
                             "stripe_balance_synced_at"])
    if user.stripe_balance_negative and not was_negative:
        audit_record(action=BALANCE_NEGATIVE_ACTION, actor=actor, subject_user=user,
                     stripe_event_id=stripe_event_id, to_status="negative",
                     message=f"balance {format_usd(total)} (available {format_usd(available)}); "
                             f"losses liable: {user.stripe_losses_liable or 'unknown'}",
                     data={"stripe_account": account_id, "balance_cents": total,
                           "available_cents": available})
        notice_after_commit(
            subject=f"Negative Stripe balance: {user.username} owes {format_usd(-total)}",
            body=(f"The Stripe balance of {user.display_name} ({account_id}) is {format_usd(total)} "
                  f"after refunds or disputes.\nWho covers it if the seller does not: "
                  f"{user.stripe_losses_liable or 'unknown'}.\nUntil the balance is back at zero or "
                  "above, this seller's listings cannot be bought.\n"),
            to_seller=user, to_staff=True,
        )
    elif was_negative and not user.stripe_balance_negative:
        audit_record(action=BALANCE_COVERED_ACTION, actor=actor, subject_user=user,
                     stripe_event_id=stripe_event_id, from_status="negative", to_status="covered",
                     message=f"balance {format_usd(total)}",
                     data={"stripe_account": account_id, "balance_cents": total,
                           "available_cents": available})
    return user


def balance_event_apply(*, event) -> None:
    """An event from a connected account that moved its balance (`balance.available`, and the
    refund, dispute and payout events that take money and never come as `balance.available`):
    re-read the balance from Stripe (an event's copy may be old news) and record it."""
    account_id = str((event.stripe_data or {}).get("account") or "")
    if not account_id:
        return  # the platform's own balance: nothing of a seller's
    user = User.objects.filter(stripe_account_id=account_id, stripe_disconnected_at__isnull=True).first()
    if user is None:
        return
    balance = as_dict(stripe_api.balance_retrieve(account_id=account_id, subject_user=user))
    seller_balance_record(
        account_id=account_id,
        balance=SellerBalance(available=_per_currency(balance.get("available")),
                              pending=_per_currency(balance.get("pending"))),
        stripe_event_id=event.id,
    )


def sellers_balance_refresh(*, everyone: bool = False, now=None) -> dict[str, int]:
    """Re-read balances from Stripe: of sellers whose balance was negative (so a block is lifted
    once it is covered) and of sellers with a refund or dispute in the last
    `SELLER_BALANCE_WATCH_DAYS` days (Stripe sends no `balance.available` for a debit, so a
    missed refund or dispute event would leave a negative balance unseen); or of every
    connected seller.

    A seller Stripe does not answer for is skipped (logged) and tried on the next run.
    """
    sellers = User.objects.filter(is_seller=True, stripe_disconnected_at__isnull=True).exclude(
        stripe_account_id=""
    )
    if not everyone:
        since = (now or timezone.now()) - timedelta(days=settings.SELLER_BALANCE_WATCH_DAYS)
        watched = (Q(stripe_balance_cents__lt=0) | order_disputes().sellers_disputed_since(since)
                   | Q(sales__refunds__created_at__gte=since))
        sellers = User.objects.filter(pk__in=sellers.filter(watched).values("pk"))
    counts = {"read": 0, "negative": 0, "failed": 0}
    for seller in sellers.order_by("pk").iterator():
        try:
            seller_balance(user=seller)
        except DomainError:
            counts["failed"] += 1
            logger.warning("Could not read the Stripe balance of %s", seller.stripe_account_id)
            continue
        counts["read"] += 1
        counts["negative"] += seller.stripe_balance_negative
    return counts
