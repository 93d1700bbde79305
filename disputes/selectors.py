"""Reads about disputes that payments' pages and rules need, given to payments as its
order_disputes answers (payments/order_disputes.py, from DisputesConfig.ready), and the disputes
section of the staff to-do on the admin index.
"""

from __future__ import annotations

import datetime

from django.db.models import F, Q, QuerySet
from django.urls import reverse

from disputes.models import DISPUTE_LOST, DISPUTE_OPEN, NEEDS_RESPONSE, Dispute, DisputeStatus
from marketplace.pricing import STRIPE_DISPUTE_FEE_CENTS, format_usd
from payments.models import Order
from payments.order_disputes import PAYMENT_DISPUTE_LOST, PAYMENT_DISPUTE_OPEN, DisputeMoney
from payments.selectors.money import MoneyLine
from payments.selectors.staff import TodoItem, TodoSection, todo_line

# A chargeback whose money is out of the seller's balance: held while open, gone when lost.
CHARGEBACK_HELD = (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW)
CHARGEBACK_TAKEN = (*CHARGEBACK_HELD, DisputeStatus.LOST)
# What sale_money reads for a list of orders (prefetched by payments.selectors.money).
MONEY_PREFETCH = ("disputes",)


def order_dispute_refund_allowed(order: Order) -> bool:
    """Stripe's `is_charge_refundable` on the order's open dispute: true during an inquiry (no
    money taken yet; a refund is the cheapest way out), false for a chargeback."""
    dispute = order.disputes.first()  # the latest
    return dispute is not None and dispute.is_open and dispute.charge_refundable


def payment_dispute_state(dispute_status: str) -> str:
    """What Stripe's dispute status on a payment means for the payment's own status."""
    if dispute_status in DISPUTE_LOST:
        return PAYMENT_DISPUTE_LOST
    if dispute_status in DISPUTE_OPEN:
        return PAYMENT_DISPUTE_OPEN
    return ""


def sale_dispute_money(order: Order) -> DisputeMoney:
    """The sale's chargebacks in the seller's money: held while open, taken when lost, a line
    when won; Stripe's dispute fee for each one that took money. Inquiries take nothing."""
    chargebacks = [d for d in order.disputes.all() if not d.is_inquiry]
    lines, taken = [], 0
    for dispute in chargebacks:
        if dispute.status in CHARGEBACK_TAKEN:
            label = ("Held for the dispute (back if you win it)" if dispute.status in CHARGEBACK_HELD
                     else "Taken by the lost dispute")
            lines.append(MoneyLine(label, format_usd(-dispute.amount_cents), "minus"))
            taken += dispute.amount_cents
        elif dispute.status == DisputeStatus.WON:
            lines.append(MoneyLine("Dispute won: the money came back", format_usd(0), "info"))
    fees = [("Stripe's dispute fee", STRIPE_DISPUTE_FEE_CENTS)
            for d in chargebacks if d.status in CHARGEBACK_TAKEN]
    return DisputeMoney(lines=lines, taken_cents=taken, stripe_fees=fees)


def seller_dispute_debits(seller, since: datetime.datetime) -> list[str]:
    """The seller's latest chargebacks (at most three) since `since` that took from their balance."""
    disputes = (Dispute.objects.filter(order__seller=seller, is_inquiry=False, status__in=CHARGEBACK_TAKEN,
                                       created_at__gte=since).order_by("-created_at")[:3])
    return [f"a dispute took {format_usd(d.amount_cents)} on order #{d.order_id}" for d in disputes]


def sellers_disputed_since(since: datetime.datetime) -> Q:
    """The sellers (Q on the user model) with a dispute opened since `since`."""
    return Q(pk__in=Dispute.objects.filter(created_at__gte=since).values("order__seller_id"))


def orders_by_dispute_id(term: str) -> Q | None:
    """The staff order search: a dispute's Stripe id (dp_…, or du_… for an inquiry) finds its order."""
    if not term.startswith(("dp_", "du_")):
        return None
    return Q(pk__in=Dispute.objects.filter(stripe_dispute_id=term).values("order_id"))


def disputes_awaiting_answer() -> QuerySet[Dispute]:
    """Open disputes and inquiries Stripe still waits for evidence on, that staff have neither
    submitted nor accepted (`Dispute.needs_response` for one row)."""
    return Dispute.objects.filter(
        status__in=NEEDS_RESPONSE, submitted_at__isnull=True, accepted_at__isnull=True
    )


def staff_todo_disputes() -> TodoSection:
    """The to-do's first section: disputes waiting for our answer, the nearest deadline first,
    linked to the admin list filtered to exactly them (disputes.admin.DisputeStateFilter)."""
    qs = disputes_awaiting_answer().order_by(F("evidence_due_by").asc(nulls_last=True), "pk")
    url = f"{reverse('admin:disputes_dispute_changelist')}?state=needs_response"
    return TodoSection("disputes", "Disputes waiting for our answer", [todo_line(
        "Evidence due", url, qs,
        lambda d: TodoItem(f"{d.kind_label} on order #{d.order_id}, {d.amount_display}",
                           reverse("admin:disputes_dispute_change", args=[d.pk]), d.evidence_due_by,
                           d.days_left_display),
        when_label="due",
    )])


def dispute_evidence_file_ids(*, dispute: Dispute) -> dict[str, str]:
    """Stripe's evidence file fields for the dispute's current files: {"receipt": "file_…", …}."""
    return {f.kind: f.stripe_file_id for f in dispute.evidence_files.filter(replaced_at__isnull=True)}
