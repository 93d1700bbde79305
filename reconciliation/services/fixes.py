"""The staff actions that fix a difference where a safe fix exists, each explicit and audited.

- "Apply the missed event": the events Stripe holds about the object that never reached us are
  handed to the webhook pipeline as the replay does (payments.services.replay), so the same
  handlers, with their row locks and forward-only rules, do what the lost delivery would have.
- "Adopt a refund made in Stripe's dashboard": the payment is re-read from Stripe and its refund
  given to payments' refund sync (`refunds_apply`), which makes the row and moves the order.

Each is refused when the difference was already resolved, when its kind has no such fix, and when
it is no longer safe or needed (nothing left to apply, the refund gone or already in line): staff
then run the reconciliation again. Nothing is called at Stripe under a row lock.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict
from payments.models import Order, Payment
from payments.services.audit import audit_record
from payments.services.payment_events import payment_facts_fetch
from payments.services.refunds import NEXT_STATUSES, refunds_apply
from payments.services.replay import stripe_event_apply, stripe_events_missed
from reconciliation.models import Difference, Fix
from reconciliation.services.run import MONEY_REFUND_STATUSES

# How far before the object's creation the events about it are looked for (clocks differ a little).
EVENTS_LEEWAY = timedelta(minutes=5)


class FixRefused(Conflict):
    code = "reconciliation_fix_refused"
    message = "This difference cannot be fixed that way now."


def _open_difference(*, difference_id: int, fix: str) -> Difference:
    difference = Difference.objects.select_related("order", "run").get(pk=difference_id)
    if difference.resolved_at is not None:
        raise FixRefused(f"Already resolved: {difference.resolution}")
    if difference.fix != fix:
        raise FixRefused(f"“{Fix(fix).label}” is not the fix for “{difference.get_kind_display()}”.")
    return difference


@transaction.atomic
def _resolve(
    *, difference_id: int, actor, resolution: str, action: str, data: dict, request=None
) -> Difference:
    difference = Difference.objects.select_for_update().get(pk=difference_id)
    if difference.resolved_at is not None:
        raise FixRefused(f"Already resolved: {difference.resolution}")
    difference.resolved_at, difference.resolved_by, difference.resolution = (
        timezone.now(),
        actor,
        resolution[:500],
    )
    difference.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_record(
        action=action,
        actor=actor,
        order=difference.order,
        message=resolution,
        data={
            "difference": difference.pk,
            "run": difference.run_id,
            "kind": difference.kind,
            "stripe_object": difference.stripe_object_id,
            **data,
        },
        request=request,
    )
    return difference


def difference_apply_missed_event(*, difference_id: int, actor, request=None) -> Difference:
    """Apply the events about the difference's object that never reached our webhooks."""
    difference = _open_difference(difference_id=difference_id, fix=Fix.APPLY_EVENT)
    since = (difference.stripe_created or difference.run.since) - EVENTS_LEEWAY
    events = stripe_events_missed(
        since=since, stripe_account=difference.stripe_account or None, object_id=difference.stripe_object_id
    )
    if not events:
        raise FixRefused(
            f"Every event Stripe holds about {difference.stripe_object_id} has been received: "
            "nothing to apply. Run the reconciliation again to see what is left."
        )
    applied = []
    for event in events:
        if not stripe_event_apply(event=event):
            raise FixRefused(
                f"Applying {event['id']} ({event['type']}) failed; its delivery in Webhook deliveries "
                f"has the error. Applied before it: {', '.join(applied) or 'none'}."
            )
        applied.append(event["id"])
    return _resolve(
        difference_id=difference.pk,
        actor=actor,
        action="reconciliation.event_applied",
        request=request,
        resolution=f"Applied {', '.join(applied)} from Stripe.",
        data={"events": applied},
    )


def difference_adopt_refund(*, difference_id: int, actor, request=None) -> Difference:
    """Record a refund made in Stripe's dashboard through payments' refund sync."""
    difference = _open_difference(difference_id=difference_id, fix=Fix.ADOPT_REFUND)
    order = difference.order
    if not Payment.objects.filter(order=order).exists():
        raise FixRefused(f"Order #{order.pk} is not paid here yet: apply its missed payment first.")
    facts = payment_facts_fetch(
        payment_intent_id=order.payment_intent_id, stripe_account=order.stripe_account_id
    )
    refund = next((r for r in facts.refunds or [] if r["id"] == difference.stripe_object_id), None)
    if refund is None:
        raise FixRefused(f"Stripe no longer lists refund {difference.stripe_object_id} on this payment.")
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        row = locked.refunds.filter(stripe_refund_id=refund["id"]).first()
        if row is None and refund.get("status") not in MONEY_REFUND_STATUSES:
            raise FixRefused(
                f"Refund {refund['id']} is {refund.get('status')} at Stripe: "
                "no money moved, nothing to adopt."
            )
        if row is not None and (
            row.status == refund.get("status") or refund.get("status") not in NEXT_STATUSES[row.status]
        ):
            raise FixRefused(
                f"Refund {refund['id']} is {row.status} here and {refund.get('status')} at Stripe: "
                "nothing the refund sync may change."
            )
        refunds_apply(
            order=locked,
            stripe_refunds=[refund],
            fee_refunded_cents=facts.fee_refunded_cents,
            actor=actor,
            request=request,
        )
        return _resolve(
            difference_id=difference.pk,
            actor=actor,
            action="reconciliation.refund_adopted",
            request=request,
            resolution=f"Adopted refund {refund['id']} ({refund.get('status')}, {refund['amount']} cents).",
            data={"refund": refund["id"], "status": refund.get("status"), "amount": refund["amount"]},
        )
