"""A dispute on an order's timeline, in the words of whoever reads it (payments/order_words.py asks
through order_move_words_register, from DisputesConfig.ready): the buyer's bank disputed it, and
how it ended, from the facts the dispute services put on the order's moves (disputes.services:
`inquiry`, `amount_cents`, `dispute_ending`, `accepted_by_staff`)."""

from marketplace.pricing import format_usd
from payments.models import AuditEvent, Order, OrderStatus
from payments.order_words import BUYER

S = OrderStatus


def dispute_move_words(event: AuditEvent, *, order: Order, reader: str) -> str:
    """The line for a move into or out of a dispute; "" for any other move."""
    data = event.data or {}
    if (event.from_status == S.DISPUTED and "dispute_ending" in data) or event.to_status == S.DISPUTE_LOST:
        return _dispute_end_words(data, order=order, reader=reader)
    if event.from_status == S.DISPUTED:
        return "The dispute was closed"
    if event.to_status == S.DISPUTED:
        return _dispute_open_words(data, order=order, reader=reader)
    return ""


def _dispute_open_words(data: dict, *, order: Order, reader: str) -> str:
    amount = format_usd(data.get("amount_cents") or order.amount_cents)
    if data.get("inquiry"):
        return ("Your bank asked about this payment" if reader == BUYER
                else "The buyer's bank asked about this payment (an inquiry: no money taken)")
    if reader == BUYER:
        return f"You disputed this payment ({amount}) with your bank"
    return f"The buyer's bank disputed this payment: {amount} is held while it is open"


def _dispute_end_words(data: dict, *, order: Order, reader: str) -> str:
    ending = data.get("dispute_ending", "lost")
    amount = format_usd(data.get("amount_cents") or order.amount_cents)
    buyer = reader == BUYER
    if ending == "lost":
        if buyer:
            return f"The dispute ended in your favour: your bank gave you back {amount}"
        if data.get("accepted_by_staff"):
            return f"Our staff accepted the dispute: {amount} went back to the buyer"
        return f"Dispute lost: the bank gave {amount} back to the buyer"
    if ending == "won" and data.get("inquiry"):
        return "Your bank closed its inquiry" if buyer else "The inquiry closed without a chargeback"
    if ending == "won":
        return ("The dispute ended in the seller's favour" if buyer
                else "Dispute won: the money is back in your balance")
    if ending == "prevented":
        return ("Your bank closed the dispute" if buyer
                else "The dispute was stopped before it became a chargeback: nothing was taken")
    return "Your bank's inquiry was closed" if buyer else "The inquiry was closed; no money moved"
