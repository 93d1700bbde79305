"""An order in the words of whoever reads it: its status and its timeline for the buyer ("You
paid $12.00", "Refunded by your bank") or the seller ("Sam paid $12.00", "Dispute lost").

The audit trail's messages are staff's (they name Stripe's objects and our states, and admin shows
them as written); buyers and sellers never read them. Each line here is made from the event's
action, statuses and data instead, so an older event without the data still reads plainly.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from marketplace.pricing import format_usd
from payments.models import AuditEvent, Order, OrderStatus, ShippingCarrier
from payments.services.audit import FAILED_TRY_ACTION

S = OrderStatus
BUYER = "buyer"
SELLER = "seller"

# Where a reader's word for a status differs from OrderStatus's own label (which staff read).
STATUS_WORDS = {
    BUYER: {
        S.PENDING_PAYMENT: "Awaiting your payment",
        S.CANCELLED: "Not paid",
        S.DISPUTED: "Disputed with your bank",
        S.DISPUTE_LOST: "Refunded by your bank",
    },
    SELLER: {
        S.PENDING_PAYMENT: "Awaiting the buyer's payment",
        S.CANCELLED: "Not paid",
    },
}

# Stripe's decline codes as a buyer would say them (the audit row keeps the code itself).
PAYMENT_FAILURE_WORDS = {
    "payment_intent_authentication_failure": "your bank did not confirm it (3-D Secure)",
    "authentication_required": "your bank asked for a confirmation that did not happen",
    "insufficient_funds": "the card has insufficient funds",
    "expired_card": "the card has expired",
    "incorrect_cvc": "the security code was wrong",
    "incorrect_number": "the card number was wrong",
    "processing_error": "the card could not be processed",
}
DECLINED = "the card was declined"
FAILED_PREFIX = "Payment failed: "


# Words for the order moves an app above payments makes (the disputes app: into and out of a
# dispute), from its ready(): (event, *, order, reader) -> the line, or "" when the move is not
# its own. Payments reads no other app's audit data itself.
_MOVE_WORDS: list[Callable[..., str]] = []


def order_move_words_register(words: Callable[..., str]) -> None:
    if words not in _MOVE_WORDS:
        _MOVE_WORDS.append(words)


# Words for an app's own events on the order (the problems app: "problem." for a report's
# steps), by action prefix, from its ready(): (event, *, order, reader) -> the line, or "" to
# leave the event out. payments.selectors.orders.order_timeline reads the events of these prefixes too.
_EVENT_WORDS: dict[str, Callable[..., str]] = {}


def order_event_words_register(prefix: str, words: Callable[..., str]) -> None:
    _EVENT_WORDS[prefix] = words


def timeline_event_prefixes() -> tuple[str, ...]:
    return tuple(_EVENT_WORDS)


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    text: str
    css: str = "event"


def reader_of(*, order: Order, user) -> str:
    return SELLER if order.seller_id == user.pk else BUYER


def status_words(*, order: Order, reader: str) -> str:
    """The order's status for its buyer or seller; a pending refund reads "Refund pending"."""
    if order.shows_refund_pending:
        return order.status_label
    return STATUS_WORDS[reader].get(order.status, order.status_label)


def payment_failure_words(reason: str) -> str:
    return PAYMENT_FAILURE_WORDS.get(reason, DECLINED)


def timeline_lines(
    *, order: Order, events: list[AuditEvent], attempts: list[Order], reader: str
) -> list[TimelineLine]:
    """One line per event, oldest first; the lines of earlier attempts say which one they were."""
    refunds = {refund.pk: refund for refund in order.refunds.all()}
    attempt_number = {attempt.pk: number for number, attempt in enumerate(attempts, start=1)}
    lines = []
    for event in events:
        text = _event_words(event, order=order, refunds=refunds, reader=reader,
                            attempt=event.order_id in attempt_number, retried=bool(attempts))
        if not text:
            continue
        if event.order_id in attempt_number:
            text = f"Attempt {attempt_number[event.order_id]}: {text}"
        lines.append(TimelineLine(at=event.created_at, text=text, css=event.to_status or "event"))
    return lines


def _event_words(
    event: AuditEvent, *, order: Order, refunds: dict, reader: str, attempt: bool, retried: bool
) -> str:
    data = event.data or {}
    if event.action == "order.created":
        if attempt:
            return "Checkout started"
        return "You tried again" if retried and reader == BUYER else "Order placed"
    if event.action == FAILED_TRY_ACTION:
        return _failed_words(event, reader=reader)
    if event.action.startswith("refund."):
        refund = refunds.get(data.get("refund"))
        return _refund_words(event.action.removeprefix("refund."), refund, reader=reader)
    for prefix, words in _EVENT_WORDS.items():
        if event.action.startswith(prefix):
            return words(event, order=order, reader=reader)
    if event.action != "order.transition":
        return ""
    for words in _MOVE_WORDS:
        text = words(event, order=order, reader=reader)
        if text:
            return text
    return _move_words(event, order=order, reader=reader)


def _move_words(event: AuditEvent, *, order: Order, reader: str) -> str:
    data = event.data or {}
    to = event.to_status
    buyer = reader == BUYER
    if to == S.PAID and event.from_status in (S.REFUNDED, S.PARTIALLY_REFUNDED):
        return "Back as it was before the refund"
    if to == S.PAID:
        amount = format_usd(order.amount_cents)
        return f"You paid {amount}" if buyer else f"{order.buyer.display_name} paid {amount}"
    if to == S.SHIPPED and event.from_status in (S.REFUNDED, S.PARTIALLY_REFUNDED):
        return "Back as it was before the refund"
    if to == S.SHIPPED:
        who = f"{order.seller.display_name} shipped it" if buyer else "You shipped it"
        return who + _parcel_words(data)
    if to == S.COMPLETED and event.from_status in (S.REFUNDED, S.PARTIALLY_REFUNDED):
        return "Back as it was before the refund"
    if to == S.COMPLETED:
        return "You confirmed it arrived" if buyer else f"{order.buyer.display_name} confirmed it arrived"
    if to == S.PAYMENT_FAILED:
        return _failed_words(event, reader=reader)
    if to == S.CANCELLED:
        return _closed_words(data.get("closed_because", ""), order=order, reader=reader)
    if to in (S.REFUNDED, S.PARTIALLY_REFUNDED):
        # Money promised, not yet back: the refund lines say when Stripe sends it.
        return "Refund requested"
    return OrderStatus(to).label if to in S.values else ""


def _parcel_words(data: dict) -> str:
    carrier = data.get("shipping_carrier", "")
    tracking = data.get("tracking_number", "")
    words = f" with {ShippingCarrier(carrier).label}" if carrier in ShippingCarrier.values else ""
    return words + (f", tracking number {tracking}" if tracking else "")


def _failed_words(event: AuditEvent, *, reader: str) -> str:
    reason = (event.data or {}).get("reason") or event.message.removeprefix(FAILED_PREFIX).strip()
    if reader == BUYER:
        return f"Payment failed: {payment_failure_words(reason)}; nothing was charged"
    return "The buyer's payment failed; nothing was charged"


def _closed_words(why: str, *, order: Order, reader: str) -> str:
    if reader == SELLER:
        if why == "paid_too_late":
            return "The payment came after the hold ended; the buyer is refunded in full"
        return "Closed before payment; nothing was charged"
    return {
        "lapsed": "Your hold ended before you paid; nothing was charged",
        "superseded": "Closed: the price changed, so you started a new checkout; nothing was charged",
        "paid_too_late": "Your payment came after your hold had ended; it is refunded to you in full",
    }.get(why, "Checkout closed before you paid; nothing was charged")


def _refund_words(step: str, refund, *, reader: str) -> str:
    amount = format_usd(refund.amount_cents) if refund is not None else "the refund"
    subject = f"Refund of {amount}" if refund is not None else "The refund"
    buyer = reader == BUYER
    if step == "succeeded":
        return f"{subject} sent to your card" if buyer else f"{subject} sent to the buyer's card"
    if step == "pending":
        return (f"{subject} on its way" if buyer
                else f"{subject} pending: Stripe sends it once your balance covers it")
    if step in ("failed", "canceled"):
        return (f"{subject} did not go through; the seller or our team will be in touch" if buyer
                else f"{subject} did not go through: the buyer did not get this money back")
    return ""
