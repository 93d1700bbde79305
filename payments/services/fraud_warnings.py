"""Radar's early fraud warnings: the card's bank reported a payment as fraud.

A chargeback (the amount plus a dispute fee) usually follows; refunding the payment in full first
avoids both, and Stripe then marks the warning no longer `actionable`
(https://docs.stripe.com/api/radar/early_fraud_warnings/object). For direct charges the warning
lives on the seller's account, so `radar.early_fraud_warning.created` / `.updated` arrive on the
Connect endpoint (HANDLERS in payments/services/webhooks.py).

Each event re-reads the warning from Stripe, then, under the order's lock, upserts our
`EarlyFraudWarning` row: applying an event twice, or an older one after a newer, changes nothing
more. The seller is emailed once, when we first learn of the warning. Staff see the actionable
ones as a to-do (payments/admin/fraud.py) with a full refund through the refund service.
"""

from __future__ import annotations

import datetime

from django.db import transaction

from core.errors import NotFound
from payments import stripe_api
from payments.models import EarlyFraudWarning, Order
from payments.services.audit import audit_record
from payments.services.notifications import notify_fraud_warning
from payments.services.payment_events import event_account, payment_event_sync
from payments.services.refunds import refund_request
from payments.stripe_api import object_id, plain


def fraud_warning_event_apply(*, event) -> None:
    """radar.early_fraud_warning.created / updated."""
    account = event_account(event)
    warning = plain(stripe_api.early_fraud_warning_fetch(
        warning_id=object_id(event.data.get("object")), stripe_account=account))
    payment_intent_id = object_id(warning.get("payment_intent"))
    if not payment_intent_id and warning.get("charge"):
        charge_id = object_id(warning["charge"])
        charge = plain(stripe_api.charge_fetch(charge_id=charge_id, stripe_account=account))
        payment_intent_id = object_id(charge.get("payment_intent"))

    def apply_warning(*, order, payment):
        fraud_warning_apply(order=order, warning=warning, event_id=event.id)

    payment_event_sync(event=event, payment_intent_id=payment_intent_id, then=apply_warning)


def fraud_warning_apply(*, order: Order, warning: dict, event_id: str) -> EarlyFraudWarning:
    """Bring our row in line with Stripe's warning (the order is locked by the caller)."""
    row = EarlyFraudWarning.objects.select_for_update().filter(stripe_warning_id=warning.get("id")).first()
    created = row is None
    if created:
        stamp = warning.get("created")
        row = EarlyFraudWarning(
            stripe_warning_id=warning.get("id") or "", order=order, stripe_account_id=order.stripe_account_id,
            stripe_created=datetime.datetime.fromtimestamp(int(stamp), tz=datetime.UTC) if stamp else None,
        )
    row.charge_id = object_id(warning.get("charge"))
    row.fraud_type = warning.get("fraud_type") or ""
    # Once no longer actionable (disputed or fully refunded) it never becomes actionable again.
    row.actionable = bool(warning.get("actionable")) and (created or row.actionable)
    row.save()
    if created:
        audit_record(action="fraud_warning.received", order=order, stripe_event_id=event_id,
                     message=f"Early fraud warning from the card's bank: {row.fraud_type_display}. "
                             "Refund in full to avoid a chargeback and its fee.",
                     data={"warning_id": row.stripe_warning_id, "fraud_type": row.fraud_type})
        transaction.on_commit(lambda: notify_fraud_warning(warning=row))
    return row


def fraud_warning_refund(*, warning_id: int, actor, request=None):
    """Staff's one-click answer: refund what is left of the order, as fraudulent, through the one
    refund service (its permission check: a full refund above Support's limit needs Finance)."""
    row = EarlyFraudWarning.objects.filter(pk=warning_id).first()
    if row is None:
        raise NotFound("No such early fraud warning.")
    return refund_request(order_id=row.order_id, actor=actor, reason="fraudulent",
                          note=f"Refunded after early fraud warning {row.stripe_warning_id}",
                          request_token=f"efw-{row.pk}", request=request)
