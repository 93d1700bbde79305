"""What payments and the apps beside it ask about an order's problem report, answered by the
problems app.

Problems sits above payments, ratings and disputes (docs/architecture.md, "Layout"), so none of
them imports it. A problem report open on an order holds the seller's hand: the buyer is not asked
to rate the order, and nothing completes it on the buyer's behalf, until the report is closed.
ProblemsConfig.ready answers (`order_problems_answer`); without the problems app no order is held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q


@dataclass(frozen=True)
class OrderProblems:
    # order -> whether a problem report is open on it.
    holds: Callable[..., bool] = lambda order: False
    # The orders an open report holds (Q on Order): what a job that completes orders by itself
    # or asks buyers for feedback must leave out.
    held: Callable[[], Q] = lambda: Q(pk__in=[])


_answers = OrderProblems()


def order_problems_answer(answers: OrderProblems) -> None:
    """The problems app's answers (ProblemsConfig.ready)."""
    global _answers
    _answers = answers


def order_problems() -> OrderProblems:
    return _answers
