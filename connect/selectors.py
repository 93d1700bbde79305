"""What the seller dashboard shows of the seller's Stripe account (`seller_stripe_panels`, for
the `{% seller_stripe_account %}` tag of connect/templatetags/connect.py): the onboarding step
and what Stripe still needs, the balance, and the payouts panel.

The payouts panel: the payout schedule, the next payout and the latest payouts, read from Stripe
on the seller's account (the account's `settings.payouts.schedule`, GET /v1/payouts) through
payments.stripe_api.

Cached per account for `PAYOUTS_CACHE_SECONDS` (a dashboard reload does not ask Stripe again),
and soft: when Stripe does not answer the panel says so and the page works.
https://docs.stripe.com/connect/manage-payout-schedule, https://docs.stripe.com/api/payouts/object
"""

from __future__ import annotations

import calendar
import datetime
import logging
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils import timezone

from accounts.models import StripeAccountStatus
from connect.services.payouts import CURRENCY, SellerBalance, seller_balance
from connect.services.rules import (
    as_dict,
    disabled_reason_in_plain_words,
    requirements_in_plain_words,
    requirements_outlook,
)
from core.errors import DomainError
from marketplace.pricing import format_usd
from payments import stripe_api
from payments.selectors.money import seller_balance_explanation

logger = logging.getLogger(__name__)

PAYOUTS_CACHE_SECONDS = 60
# After Stripe failed, wait this long before asking again (every reload would wait for it).
PAYOUTS_FAILURE_CACHE_SECONDS = 15
RECENT_PAYOUTS = 5
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

PAYOUT_STATUS_WORDS = {
    "pending": "Being sent",
    "in_transit": "On its way to your bank",
    "paid": "Paid to your bank",
    "failed": "Failed: check your bank details in your Stripe dashboard",
    "canceled": "Canceled: the money went back to your balance",
}


@dataclass(frozen=True)
class PayoutRow:
    amount: str
    status: str
    status_words: str
    arrival: datetime.date


@dataclass(frozen=True)
class PayoutsPanel:
    schedule: str = ""
    delay: str = ""
    next_payout: str = ""
    on_the_way: list[PayoutRow] = field(default_factory=list)
    recent: list[PayoutRow] = field(default_factory=list)
    unavailable: bool = False


def _cache_key(account_id: str) -> str:
    return f"payments:payouts-panel:{account_id}"


def _stripe_payouts(*, user) -> dict | None:
    """{"schedule": {...}, "payouts": [...]} from Stripe, cached; None when Stripe failed."""
    key = _cache_key(user.stripe_account_id)
    found = cache.get(key)
    if found is not None:
        return found or None  # {} remembers a failure for a moment
    try:
        account = as_dict(stripe_api.account_retrieve(user.stripe_account_id, subject_user=user))
        listed = as_dict(stripe_api.payout_list(account_id=user.stripe_account_id, limit=RECENT_PAYOUTS,
                                                subject_user=user))
    except DomainError:
        logger.warning("Could not read the payouts of %s", user.stripe_account_id)
        cache.set(key, {}, PAYOUTS_FAILURE_CACHE_SECONDS)
        return None
    schedule = ((account.get("settings") or {}).get("payouts") or {}).get("schedule") or {}
    keep = ("amount", "currency", "status", "arrival_date", "created")
    found = {
        "schedule": {name: schedule.get(name) for name in
                     ("interval", "delay_days", "weekly_anchor", "monthly_anchor")},
        "payouts": [{name: payout.get(name) for name in keep} for payout in listed.get("data") or []],
    }
    cache.set(key, found, PAYOUTS_CACHE_SECONDS)
    return found


def next_payout_date(schedule: dict, today: datetime.date) -> datetime.date | None:
    """The next day after `today` the schedule pays out on (None for manual payouts). Calendar
    days: Stripe may move a payout past weekends and bank holidays."""
    interval = schedule.get("interval") or "daily"
    for ahead in range(1, 32):
        day = today + datetime.timedelta(days=ahead)
        if interval == "daily":
            return day
        if interval == "weekly" and WEEKDAYS[day.weekday()] == (schedule.get("weekly_anchor") or "monday"):
            return day
        if interval == "monthly":
            anchor = int(schedule.get("monthly_anchor") or 1)
            if day.day == min(anchor, calendar.monthrange(day.year, day.month)[1]):
                return day
    return None


def _schedule_words(schedule: dict) -> tuple[str, str]:
    interval = schedule.get("interval") or "daily"
    words = {
        "daily": "Daily: Stripe sends your available balance to your bank every day.",
        "weekly": f"Weekly, every {(schedule.get('weekly_anchor') or 'monday').capitalize()}.",
        "monthly": f"Monthly, on day {schedule.get('monthly_anchor') or 1} of each month.",
        "manual": "Manual: Stripe pays out only when you ask for it in your Stripe dashboard.",
    }.get(interval, interval)
    days = schedule.get("delay_days")
    delay = (f"Money from a sale becomes available {days} day{'s' if days != 1 else ''} after the "
             "buyer pays." if isinstance(days, int) else "")
    return words, delay


def _row(payout: dict) -> PayoutRow:
    arrival = datetime.datetime.fromtimestamp(int(payout.get("arrival_date") or 0), datetime.UTC).date()
    status = str(payout.get("status") or "")
    return PayoutRow(amount=format_usd(int(payout.get("amount") or 0)), status=status,
                     status_words=PAYOUT_STATUS_WORDS.get(status, status), arrival=arrival)


def seller_payouts_panel(*, user, balance: SellerBalance | None,
                         now: datetime.datetime | None = None) -> PayoutsPanel | None:
    """The panel for a seller with a connected account (None without one). `balance` is the
    balance the page already read (None when Stripe did not answer)."""
    if not user.stripe_account_id or user.stripe_disconnected_at is not None:
        return None
    found = _stripe_payouts(user=user)
    if found is None:
        return PayoutsPanel(unavailable=True)
    schedule = found["schedule"]
    words, delay = _schedule_words(schedule)
    rows = [_row(payout) for payout in found["payouts"]]
    on_the_way = [row for row in rows if row.status in ("pending", "in_transit")]
    today = (now or timezone.now()).astimezone(datetime.UTC).date()
    available = balance.available.get(CURRENCY, 0) if balance is not None else None
    day = next_payout_date(schedule, today)
    if available is None:
        next_payout = "Your next payout is unknown right now: your balance did not load."
    elif day is None:
        next_payout = (f"{format_usd(available)} is available; ask for a payout in your Stripe dashboard."
                       if available > 0 else "Nothing is available to pay out yet.")
    elif available > 0:
        next_payout = (f"{format_usd(available)} on {day:%a %-d %b %Y} (expected; weekends and bank "
                       "holidays can move it).")
    elif available < 0:
        next_payout = "None until your balance is above zero again."
    else:
        next_payout = "Nothing yet: sales are paid out once their money becomes available."
    return PayoutsPanel(schedule=words, delay=delay, next_payout=next_payout, on_the_way=on_the_way,
                        recent=[row for row in rows if row.status not in ("pending", "in_transit")])


def seller_onboarding_step(user) -> str:
    """start | disconnected | negative_balance | continue | enabled | disabled: which panel shows."""
    if not user.stripe_account_id:
        return "start"
    if user.stripe_disconnected_at:
        return "disconnected"
    if user.stripe_balance_negative:
        return "negative_balance"
    if user.can_accept_payments:
        return "enabled"
    if user.stripe_account_status == StripeAccountStatus.DISABLED:
        return "disabled"
    return "continue"


def seller_stripe_panels(*, user) -> dict:
    """The dashboard's Stripe panels for a seller. The balance is read from Stripe first (and
    recorded on `user`), so the step, the payouts and the explanation of a negative balance all
    follow what Stripe says now; when Stripe fails the page still works without it (the seller
    can reload to retry)."""
    balance = None
    balance_error = ""
    if user.stripe_account_id:
        try:
            balance = seller_balance(user=user)
        except DomainError as error:
            balance_error = error.message
    # Before the form is submitted Stripe marks everything past due at once; "overdue" only
    # means something once the seller has been through onboarding.
    past_due = list(user.stripe_requirements_past_due or []) if user.stripe_onboarding_completed else []
    return {
        "step": seller_onboarding_step(user),
        "requirements": requirements_in_plain_words(
            [key for key in user.stripe_requirements_due or [] if key not in past_due]
        ),
        "requirements_past_due": requirements_in_plain_words(past_due),
        "disabled_reason": disabled_reason_in_plain_words(user.stripe_disabled_reason),
        "outlook": requirements_outlook(user=user),
        "balance": balance,
        "balance_error": balance_error,
        "payouts": seller_payouts_panel(user=user, balance=balance),
        "balance_explanation": seller_balance_explanation(seller=user),
    }
