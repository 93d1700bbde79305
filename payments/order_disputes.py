"""What payments asks about an order's disputes, answered by the disputes app.

Disputes sit above payments (docs/architecture.md, "Layout"), so payments never imports them. The
order's own status says whether it is disputed (`OrderStatus.DISPUTED`, `DISPUTE_LOST`); for the
rest (may a disputed order still be refunded, what a dispute took from the seller's money, which
order a dispute id belongs to) the refund rules, the payment's status, the seller's money lines
and the staff search ask the questions below, and DisputesConfig.ready answers them
(`order_disputes_answer`). Without the disputes app no order has a dispute: each default says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q

# What Stripe's dispute status on a payment (`Payment.dispute_status`) means for the payment.
PAYMENT_DISPUTE_OPEN = "open"
PAYMENT_DISPUTE_LOST = "lost"


@dataclass(frozen=True)
class DisputeMoney:
    """A sale's disputes in the seller's money: lines to show (payments.selectors.money.MoneyLine),
    what they took from the seller's balance (cents), and Stripe's fees they cost [(label, cents)]."""

    lines: list = field(default_factory=list)
    taken_cents: int = 0
    stripe_fees: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class OrderDisputes:
    # A disputed order whose (latest) dispute Stripe still lets us refund (an inquiry, which a
    # full refund settles): order -> bool.
    refund_allowed: Callable[..., bool] = lambda order: False
    # Stripe's dispute status on a payment -> PAYMENT_DISPUTE_OPEN, PAYMENT_DISPUTE_LOST or "".
    payment_state: Callable[[str], str] = lambda dispute_status: ""
    # The order's disputes in the seller's money (reads the relations in `money_prefetch`).
    sale_money: Callable[..., DisputeMoney] = lambda order: DisputeMoney()
    money_prefetch: tuple[str, ...] = ()
    # (seller, since) -> why disputes took from the seller's balance lately, in words, newest first.
    balance_causes: Callable[..., list[str]] = lambda seller, since: []
    # A Stripe id -> the orders it names (Q on Order) when it is a dispute's, else None.
    orders_by_stripe_id: Callable[[str], Q | None] = lambda term: None
    # since -> the sellers with a dispute opened since then (Q on the user model).
    sellers_disputed_since: Callable[..., Q] = lambda since: Q(pk__in=[])


_answers = OrderDisputes()


def order_disputes_answer(answers: OrderDisputes) -> None:
    """The disputes app's answers (DisputesConfig.ready)."""
    global _answers
    _answers = answers


def order_disputes() -> OrderDisputes:
    return _answers
