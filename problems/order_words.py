"""A problem report's steps on the order's timeline, in the words of whoever reads it
(payments/order_words.py asks through order_event_words_register, from ProblemsConfig.ready)."""

from marketplace.pricing import format_usd
from payments.models import AuditEvent, Order
from payments.order_words import BUYER
from problems.models import Escalation, ProblemKind, ProblemOutcome


def problem_event_words(event: AuditEvent, *, order: Order, reader: str) -> str:
    data = event.data or {}
    buyer = reader == BUYER
    step = event.action.removeprefix("problem.")
    if step == "reported":
        kind = (
            ProblemKind(data["kind"]).label.lower() if data.get("kind") in ProblemKind.values else "a problem"
        )
        return f"You reported a problem: {kind}" if buyer else f"The buyer reported a problem: {kind}"
    if step == "answered":
        return "The seller answered your problem report" if buyer else "You answered the problem report"
    if step == "refunded":
        amount = format_usd(data.get("amount_cents") or 0)
        who = "Our Support team" if data.get("by_support") else ("The seller" if buyer else "You")
        return f"{who} refunded {amount} through the problem report"
    if step == "escalated":
        if data.get("escalation") == Escalation.DEADLINE:
            return "The seller did not answer in time: the report went to our Support team"
        return (
            "You asked our Support team to decide" if buyer else "The buyer asked our Support team to decide"
        )
    if step == "closed":
        outcome = data.get("outcome", "")
        label = ProblemOutcome(outcome).label if outcome in ProblemOutcome.values else "closed"
        return f"Problem report closed: {label[0].lower()}{label[1:]}"
    if step == "dispute_linked":
        return "A card dispute was opened on this order while the problem report was open"
    return ""
