"""What a sale really leaves the seller, and why a balance went below zero, in the seller's words.

The figures come from our own rows, kept in line with Stripe by the webhooks: the order's
amount and platform fee, the payment's refunded amount and the fee given back with it
(`refund_application_fee=true`), and the chargebacks on it. Who pays Stripe's processing and
dispute fees follows the controller properties sellers' accounts are made with
(`EXPRESS_DIRECT_CHARGES_CONTROLLER`, docs/going-live.md): with `fees.payer=application` the
platform pays them, so they are shown but not taken from the seller. A lost or open chargeback
takes the disputed amount from the seller's balance and keeps the platform fee, as the sandbox
books it (docs/sandbox.md, Money).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.utils import timezone

from marketplace.pricing import (
    EXPRESS_DIRECT_CHARGES_CONTROLLER,
    format_usd,
    platform_fee_cents,
    stripe_processing_fee_cents,
)
from payments.models import Order, Payment, Refund, RefundStatus
from payments.order_disputes import order_disputes

# Stripe takes its fees from the seller's balance only when the account pays them itself.
SELLER_PAYS_STRIPE_FEES = EXPRESS_DIRECT_CHARGES_CONTROLLER["fees"]["payer"] != "application"

REFUND_TAKES_MONEY = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED)


@dataclass(frozen=True)
class MoneyLine:
    label: str
    amount: str
    # "minus": taken from you; "plus": given back to you; "info": shown, not taken from you.
    kind: str


@dataclass(frozen=True)
class SaleMoney:
    net_cents: int
    lines: list[MoneyLine]

    @property
    def net(self) -> str:
        return format_usd(self.net_cents)


def _payment(order: Order) -> Payment | None:
    try:
        return order.payment
    except Payment.DoesNotExist:
        return None


def sale_money(*, order: Order) -> SaleMoney | None:
    """The seller's net for one sale with each step in words; None before it was paid.

    Reads `order.payment`, `order.refunds` and the order's disputes (prefetch them for a list:
    sales_with_money). The disputes' lines come from the disputes app (payments/order_disputes.py).
    """
    if order.paid_at is None:
        return None
    amount, fee = order.amount_cents, order.application_fee_cents
    payment = _payment(order)
    if payment is not None:
        refunded, fee_back = payment.amount_refunded_cents, payment.fee_refunded_cents
    else:
        refunds = [r for r in order.refunds.all() if r.status in REFUND_TAKES_MONEY]
        refunded = sum(r.amount_cents for r in refunds)
        fee_back = sum(r.fee_refunded_cents for r in refunds)
    stripe_fee = stripe_processing_fee_cents(amount)
    floor = fee == stripe_fee and fee > platform_fee_cents(amount)
    lines = [  # after the sale's amount, which the pages show already
        MoneyLine("Platform fee, the minimum: Stripe's card fee on this sale" if floor else "Platform fee",
                  format_usd(-fee), "minus"),
    ]
    net = amount - fee
    if refunded:
        lines.append(MoneyLine("Refunded to the buyer", format_usd(-refunded), "minus"))
        net -= refunded
    if fee_back:
        lines.append(MoneyLine("Platform fee given back with the refund", format_usd(fee_back), "plus"))
        net += fee_back
    disputes = order_disputes().sale_money(order)
    lines += disputes.lines
    net -= disputes.taken_cents
    fees = [("Stripe's card fee", stripe_fee), *disputes.stripe_fees]
    for label, cents in fees:
        if SELLER_PAYS_STRIPE_FEES:
            lines.append(MoneyLine(label, format_usd(-cents), "minus"))
            net -= cents
        else:
            lines.append(MoneyLine(f"{label}, paid by Stub Collector, not you", format_usd(cents), "info"))
    return SaleMoney(net_cents=net, lines=lines)


def sales_with_money(*, orders: list[Order]) -> list[Order]:
    """Set `order.money` (sale_money) on each order of a list, in three queries whatever its
    length (payments, refunds, disputes)."""
    prefetch_related_objects(orders, "payment", "refunds", *order_disputes().money_prefetch)
    for order in orders:
        order.money = sale_money(order=order)
    return orders


def seller_balance_explanation(*, seller, now: datetime.datetime | None = None) -> str:
    """Why the seller's balance is below zero, from their recent chargebacks and refunds
    ("A dispute took $102.50 on order #12; ..."), or "" when it is not. Reads the balance last
    recorded on the seller (the dashboard reads it from Stripe first)."""
    available, total = seller.stripe_balance_available_cents, seller.stripe_balance_cents
    if available >= 0 and total >= 0:
        return ""
    since = (now or timezone.now()) - datetime.timedelta(days=settings.SELLER_BALANCE_WATCH_DAYS)
    refunds = (Refund.objects.filter(order__seller=seller, status__in=REFUND_TAKES_MONEY,
                                     created_at__gte=since).order_by("-created_at")[:3])
    causes = order_disputes().balance_causes(seller, since)
    causes += [f"a refund took {format_usd(r.amount_cents)} on order #{r.order_id}" for r in refunds]
    said = "; ".join(causes) or "refunds or disputes took more than your balance held"
    said = said[0].upper() + said[1:]
    if total >= 0:
        return (f"{said}. Your sales still pending cover it as their money becomes available; "
                "nothing is paid out to your bank until your balance is above zero.")
    return (f"{said}, more than your balance held ({format_usd(total)}). Buyers cannot buy your "
            "listings until it is back at zero: a won dispute gives the money back, or you can add "
            "money in your Stripe dashboard.")
