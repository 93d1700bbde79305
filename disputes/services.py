"""Disputes: what Stripe's `charge.dispute.*` events do, and how staff and sellers answer them.

Events (registered from DisputesConfig.ready through payments' webhook_handlers_register): every
`charge.dispute.*` event re-reads the dispute from Stripe on the seller's account, then, under the
order's lock, upserts our `Dispute` row from it and moves the order by the dispute's status
(docs/architecture.md, "Disputes"):

* open — `needs_response`, `under_review`, and the inquiry statuses `warning_needs_response`,
  `warning_under_review`: the order is `disputed` (its status before is kept to go back to);
* `won`, and the inquiry that closed without a chargeback (`warning_closed`): the order goes back
  where it was;
* `prevented` (Stripe's prevention refunded or blocked it before a chargeback): an outcome of its
  own, not a win; the order goes back where it was, with any refund it made counted as a refund;
* `lost`: the order ends `dispute_lost`, except an inquiry closed as lost (accepted): Stripe had
  taken no money, so the order goes back where it was and can still be refunded;
* any other status (Stripe may add some): stored on the row and audited as
  `dispute.status_unknown`, the order left alone, so a person looks at it instead of nobody.

A closed dispute never reopens from an older read. The seller is emailed once when a dispute
opens and once when it closes (won or lost); the funds events are audited.
Statuses: https://docs.stripe.com/api/disputes/object#dispute_object-status

Answering (staff, from admin; disputes/admin.py): evidence prefilled from the order
and the seller's own note, with the documents staff and the seller attached
(disputes/files.py) in Stripe's file fields, saved on Stripe as a draft
(`submit=false`) or submitted (`submit=true`), or the dispute accepted (closed, lost). Each
step is audited and needs the `disputes.respond_dispute` permission (the Support and Finance
groups have it). Stripe is called outside any row lock; a double click finds the claim the
first click left.
https://docs.stripe.com/api/disputes/update , https://docs.stripe.com/api/disputes/close
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from disputes.models import (
    DISPUTE_CLOSED,
    DISPUTE_KNOWN,
    DISPUTE_LOST,
    DISPUTE_OPEN,
    DISPUTE_PREVENTED,
    DISPUTE_WON,
    NEEDS_RESPONSE,
    Dispute,
)
from disputes.notifications import notify_dispute_closed, notify_dispute_opened, notify_dispute_reminder
from disputes.selectors import dispute_evidence_file_ids
from payments import stripe_api
from payments.models import REFUNDABLE_ORDER_STATUSES, AuditEvent, Order, OrderStatus, Payment
from payments.services.audit import audit_record
from payments.services.notifications import shipping_lines
from payments.services.orders import order_transition
from payments.services.payment_events import event_account, payment_event_sync
from payments.services.refunds import payment_status
from payments.services.snapshots import order_item
from payments.stripe_api import object_id, plain

logger = logging.getLogger(__name__)

S = OrderStatus

RESPOND_PERMISSION = "disputes.respond_dispute"  # on Dispute.Meta; Support and Finance have it

# The evidence fields staff fill in (all text; Stripe's names). Stripe allows 20,000 characters
# for the long ones and 150,000 for all together; we keep each well below that.
EVIDENCE_FIELDS = {
    "product_description": "Product description",
    "customer_name": "Customer name",
    "customer_email_address": "Customer email",
    "shipping_address": "Shipping address",
    "shipping_carrier": "Carrier",
    "shipping_tracking_number": "Tracking number",
    "shipping_date": "Ship date",
    "uncategorized_text": "Anything else (the seller's side, in their words)",
}
EVIDENCE_MAX_CHARS = 5000
SELLER_NOTE_MAX_CHARS = 2000
TRACKING_MAX_CHARS = 100


class DisputeNotAnswerable(Conflict):
    code = "dispute_not_answerable"
    message = "This dispute no longer takes a response."


class DisputeAlreadySubmitted(Conflict):
    code = "dispute_already_submitted"
    message = "The evidence for this dispute has already been submitted."


class InvalidEvidence(DomainError):
    code = "invalid_evidence"
    status = 400
    message = "The evidence is not valid."


class InvalidSellerNote(DomainError):
    code = "invalid_seller_note"
    status = 400
    message = "Add a note or a tracking number (a note up to 2,000 characters)."


# -- events ----------------------------------------------------------------------------------


def dispute_event_apply(*, event) -> None:
    """charge.dispute.created / updated / closed / funds_withdrawn / funds_reinstated: the
    dispute's current status decides."""
    account = event_account(event)
    dispute_id = object_id(event.data.get("object"))
    dispute = plain(stripe_api.dispute_fetch(dispute_id=dispute_id, stripe_account=account))
    payment_intent_id = object_id(dispute.get("payment_intent"))
    if not payment_intent_id and dispute.get("charge"):
        charge_id = object_id(dispute["charge"])
        charge = plain(stripe_api.charge_fetch(charge_id=charge_id, stripe_account=account))
        payment_intent_id = object_id(charge.get("payment_intent"))

    def apply_dispute(*, order, payment):
        dispute_apply(order=order, payment=payment, dispute=dispute, event_id=event.id,
                      event_type=event.type)

    payment_event_sync(event=event, payment_intent_id=payment_intent_id, then=apply_dispute)


def _timestamp(value) -> datetime.datetime | None:
    if not value:
        return None  # Stripe sends 0 or null when the bank allows no response
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)


def _is_inquiry(dispute: dict) -> bool:
    card = (dispute.get("payment_method_details") or {}).get("card") or {}
    return (dispute.get("status") or "").startswith("warning_") or card.get("case_type") == "inquiry"


def _row_fields(dispute: dict) -> dict:
    details = dispute.get("evidence_details") or {}
    return {
        "charge_id": object_id(dispute.get("charge")),
        "amount_cents": int(dispute.get("amount") or 0),
        "currency": dispute.get("currency") or "usd",
        "reason": dispute.get("reason") or "",
        "status": dispute.get("status") or "",
        "evidence_due_by": _timestamp(details.get("due_by")),
        "is_inquiry": _is_inquiry(dispute),
        "charge_refundable": bool(dispute.get("is_charge_refundable")),
        "submission_count": int(details.get("submission_count") or 0),
    }


def dispute_apply(*, order: Order, payment: Payment, dispute: dict, event_id: str,
                  event_type: str = "") -> Dispute | None:
    """Bring our Dispute row, the Payment and the (locked) order in line with Stripe's dispute."""
    status = dispute.get("status") or ""
    row = Dispute.objects.select_for_update().filter(stripe_dispute_id=dispute.get("id")).first()
    if row is not None and row.status in DISPUTE_CLOSED and status not in DISPUTE_CLOSED:
        return row  # an older read of a dispute we already know is over
    created = row is None
    if created:
        row = Dispute(stripe_dispute_id=dispute.get("id") or "", order=order,
                      stripe_account_id=payment.stripe_account_id,
                      stripe_created=_timestamp(dispute.get("created")))
    was_inquiry = not created and row.is_inquiry
    for name, value in _row_fields(dispute).items():
        setattr(row, name, value)
    # An inquiry the bank was not satisfied with becomes a chargeback: money is taken now and a
    # new response is due, so the earlier submission no longer closes the door.
    escalated = was_inquiry and not row.is_inquiry and status in NEEDS_RESPONSE
    if escalated:
        row.submitted_at = row.accepted_at = None
    newly_closed = status in DISPUTE_CLOSED and not row.outcome
    if newly_closed:
        row.outcome, row.closed_at = status, timezone.now()
    row.save()

    if created:
        audit_record(action="dispute.opened", order=order, stripe_event_id=event_id,
                     message=f"{row.kind_label} opened: {row.reason_display}, {row.amount_display}",
                     data={"dispute_id": row.stripe_dispute_id, "status": status})
    if event_type in ("charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated"):
        moved = "taken from" if event_type.endswith("withdrawn") else "given back to"
        audit_record(action=f"dispute.{event_type.rsplit('.', 1)[1]}", order=order, stripe_event_id=event_id,
                     message=f"{row.amount_display} {moved} the seller's Stripe balance for the dispute",
                     data={"dispute_id": row.stripe_dispute_id})

    if status not in DISPUTE_KNOWN:
        audit_record(action="dispute.status_unknown", order=order, stripe_event_id=event_id,
                     message=f"Dispute {row.stripe_dispute_id} has a status we do not know "
                             f"({status or 'none'}); the order was left as it is. Check it in Stripe.",
                     data={"dispute_id": row.stripe_dispute_id, "status": status})
        logger.warning("Dispute %s has an unknown status %r", row.stripe_dispute_id, status)
        return row

    payment.dispute_id = row.stripe_dispute_id
    payment.dispute_status = status
    payment.status = payment_status(payment)
    payment.save(update_fields=["dispute_id", "dispute_status", "status", "updated_at"])
    _order_follow(order=order, row=row, status=status, event_id=event_id)

    if created and status in DISPUTE_OPEN:
        transaction.on_commit(lambda: notify_dispute_opened(dispute=row))
    if escalated:
        audit_record(action="dispute.escalated", order=order, stripe_event_id=event_id,
                     message=f"The inquiry became a chargeback: {row.amount_display} taken, a new response "
                             "is due",
                     data={"dispute_id": row.stripe_dispute_id})
        transaction.on_commit(lambda: notify_dispute_opened(dispute=row))
    if newly_closed:
        audit_record(action="dispute.closed", order=order, stripe_event_id=event_id,
                     message=f"{row.kind_label} closed: {row.get_status_display().lower()}",
                     data={"dispute_id": row.stripe_dispute_id, "status": status})
        transaction.on_commit(lambda: notify_dispute_closed(dispute=row))
    return row


def _order_follow(*, order: Order, row: Dispute, status: str, event_id: str) -> None:
    # `dispute_ending` and the amount let the order pages say it in the buyer's or the seller's
    # words (disputes/order_words.py); the message is staff's.
    facts = {"dispute": row.pk, "inquiry": row.is_inquiry, "amount_cents": row.amount_cents}
    if row.lost_without_money or status in DISPUTE_PREVENTED:
        if order.status == S.DISPUTED:
            message = ("Inquiry accepted: closed as lost on Stripe, no money moved" if row.lost_without_money
                       else "Dispute prevented before it became a chargeback: no dispute fee, nothing won "
                            "back")
            ending = "inquiry_closed" if row.lost_without_money else "prevented"
            order_transition(order=order, to=order.status_before_dispute or S.PAID, stripe_event_id=event_id,
                             message=message, data={**facts, "dispute_ending": ending})
        return
    if status in DISPUTE_OPEN or status in DISPUTE_LOST:
        if order.status in REFUNDABLE_ORDER_STATUSES:
            order_transition(order=order, to=S.DISPUTED, stripe_event_id=event_id,
                             message=f"{row.kind_label} opened ({row.reason_display})", data=facts)
        if status in DISPUTE_LOST and order.status == S.DISPUTED:
            order_transition(order=order, to=S.DISPUTE_LOST, stripe_event_id=event_id,
                             message=f"Dispute lost: {row.amount_display} went back to the buyer",
                             data={**facts, "dispute_ending": "lost",
                                   "accepted_by_staff": row.accepted_at is not None})
    elif status in DISPUTE_WON and order.status == S.DISPUTED:
        outcome = row.get_status_display().lower()
        order_transition(order=order, to=order.status_before_dispute or S.PAID, stripe_event_id=event_id,
                         message=f"{row.kind_label} closed in the seller's favour ({outcome})",
                         data={**facts, "dispute_ending": "won"})


# -- reads ------------------------------------------------------------------------------------


def dispute_evidence_prefill(*, dispute: Dispute) -> dict[str, str]:
    """What the order already tells the bank: the stub, the buyer, where and when it shipped,
    and the seller's own words. Staff edit it before sending. The stub as it was sold (the
    order's snapshot), never as the seller may have rewritten it since."""
    order = dispute.order
    stub = order_item(order=order)
    description = f"Collectible ticket stub: {stub.event_name}"
    if stub.performer:
        description += f" ({stub.performer})"
    description += f", {stub.venue}, {stub.city}, {stub.event_date:%d %B %Y}."
    description += f" Condition: {stub.get_condition_display()}."
    if stub.description:
        description += f" {stub.description}"
    # The carrier the seller picked on "Mark shipped"; "other" tells the bank nothing.
    carrier = order.get_shipping_carrier_display() if order.shipping_carrier not in ("", "other") else ""
    evidence = {
        "product_description": description[:EVIDENCE_MAX_CHARS],
        "customer_name": order.shipping_name or order.buyer.get_full_name() or order.buyer.username,
        "customer_email_address": order.buyer.email,
        "shipping_address": "\n".join(shipping_lines(order)),
        "shipping_carrier": str(carrier),
        "shipping_tracking_number": order.tracking_number or dispute.seller_tracking_number,
        "shipping_date": order.shipped_at.date().isoformat() if order.shipped_at else "",
        "uncategorized_text": dispute.seller_note,
    }
    return {key: value or "" for key, value in evidence.items()}


def dispute_evidence_initial(*, dispute: Dispute) -> dict[str, str]:
    """The form as staff last left it (the draft), over what the order prefills."""
    prefill = dispute_evidence_prefill(dispute=dispute)
    draft = {key: value for key, value in (dispute.evidence_draft or {}).items() if key in EVIDENCE_FIELDS}
    return {**prefill, **draft}


def dispute_for_order(*, order: Order) -> Dispute | None:
    return Dispute.objects.filter(order=order).order_by("-stripe_created", "-pk").first()


# -- staff: answer or accept --------------------------------------------------------------------


def dispute_can_respond(*, user) -> bool:
    return bool(user and user.is_active and user.is_staff and user.has_perm(RESPOND_PERMISSION))


def _require_responder(user) -> None:
    if not dispute_can_respond(user=user):
        raise PermissionDenied("Answering disputes needs the Support or Finance role.")


def dispute_evidence_validate(*, evidence: dict) -> dict[str, str]:
    """The evidence as Stripe would get it, or InvalidEvidence: checked before staff are asked to
    confirm a submission, so a bad field is reported before the confirmation, not after."""
    return _clean_evidence(evidence)


def _clean_evidence(evidence: dict) -> dict[str, str]:
    if not isinstance(evidence, dict):
        raise InvalidEvidence()
    unknown = set(evidence) - set(EVIDENCE_FIELDS)
    if unknown:
        raise InvalidEvidence(f"Unknown evidence fields: {', '.join(sorted(map(str, unknown)))}.")
    clean = {}
    for key, value in evidence.items():
        if value is None:
            value = ""
        if not isinstance(value, str) or "\x00" in value:
            raise InvalidEvidence(f"{EVIDENCE_FIELDS[key]} must be text.")
        value = value.strip()
        if len(value) > EVIDENCE_MAX_CHARS:
            raise InvalidEvidence(f"{EVIDENCE_FIELDS[key]} is longer than {EVIDENCE_MAX_CHARS} characters.")
        clean[key] = value
    if clean.get("shipping_date"):
        try:
            datetime.date.fromisoformat(clean["shipping_date"])
        except ValueError:
            raise InvalidEvidence("Ship date must be a date like 2026-11-29.") from None
    return clean


def _lock(dispute_id: int) -> Dispute:
    row = Dispute.objects.select_for_update().select_related("order").filter(pk=dispute_id).first()
    if row is None:
        raise NotFound("No such dispute.")
    return row


def dispute_respond(*, dispute_id: int, evidence: dict, submit: bool, actor, request=None) -> Dispute:
    """Save the evidence on Stripe as a draft (`submit=False`) or send it to the bank (`True`)."""
    _require_responder(actor)
    evidence = _clean_evidence(evidence)
    with transaction.atomic():
        row = _lock(dispute_id)
        if row.submitted_at is not None:
            raise DisputeAlreadySubmitted()
        if row.status not in NEEDS_RESPONSE or row.accepted_at is not None:
            raise DisputeNotAnswerable(f"This dispute is {row.get_status_display().lower()}; "
                                       "it no longer takes evidence.")
        row.evidence_draft = evidence
        if submit:
            row.submitted_at = timezone.now()  # the claim a second click finds
        row.save(update_fields=["evidence_draft", "submitted_at", "updated_at"])
        # The documents attached so far, each named in Stripe's file field of its kind.
        files = dispute_evidence_file_ids(dispute=row)
    try:
        # Empty fields are sent as "" so a field cleared in the form is cleared on Stripe too.
        answer = plain(stripe_api.dispute_update(dispute=row, evidence={**evidence, **files}, submit=submit,
                                                  actor=actor))
    except DomainError as error:
        if submit:
            Dispute.objects.filter(pk=row.pk).update(submitted_at=None)
        field = getattr(error, "param", "")
        if field.removeprefix("evidence[").removesuffix("]") in files:
            # A file Stripe does not know on this account: the evidence is wrong, not the state.
            raise InvalidEvidence(f"Stripe refused an attached file: {error.message}") from error
        raise
    with transaction.atomic():
        row = _lock(dispute_id)
        # Only what the submission itself changed; a decision (closed, or an inquiry turned
        # chargeback) is the webhook's to apply, with its emails and order moves.
        fields = _row_fields(answer)
        if fields["status"] in ("under_review", "warning_under_review"):
            row.status, row.submission_count = fields["status"], fields["submission_count"]
        row.save()
        filled = sorted([key for key, value in evidence.items() if value] + list(files))
        audit_record(
            action="dispute.evidence_submitted" if submit else "dispute.evidence_draft_saved",
            actor=actor, order=row.order, request=request,
            message=("Evidence submitted to the bank" if submit else "Evidence saved as a draft on Stripe")
            + f" ({len(filled)} fields)",
            data={"dispute_id": row.stripe_dispute_id, "fields": filled, "submit": submit},
        )
    return row


def dispute_accept(*, dispute_id: int, actor, request=None) -> Dispute:
    """Accept the dispute: Stripe closes it as lost (`Dispute.accept_consequence` says what that
    means for a chargeback and for an inquiry); the order follows when the webhook arrives."""
    _require_responder(actor)
    with transaction.atomic():
        row = _lock(dispute_id)
        if row.accepted_at is not None:
            raise DisputeNotAnswerable("This dispute has already been accepted.")
        if row.status not in DISPUTE_OPEN or row.submitted_at is not None:
            raise DisputeNotAnswerable(f"This dispute is {row.get_status_display().lower()}; "
                                       "it can no longer be accepted.")
        row.accepted_at = timezone.now()
        row.save(update_fields=["accepted_at", "updated_at"])
    try:
        answer = plain(stripe_api.dispute_close(dispute=row, actor=actor))
    except DomainError:
        Dispute.objects.filter(pk=row.pk).update(accepted_at=None)
        raise
    audit_record(action="dispute.accepted", actor=actor, order=row.order, request=request,
                 message=f"{row.kind_label} accepted: {row.accept_consequence}",
                 data={"dispute_id": row.stripe_dispute_id, "status": answer.get("status", "")})
    return row


# -- the seller's side ----------------------------------------------------------------------------


def dispute_seller_note_save(*, order_id: int, seller, note: str, tracking_number: str = "",
                             request=None) -> Dispute:
    """The seller's own account and tracking details, for staff to send with the evidence."""
    note = (note or "").strip() if isinstance(note, str) else None
    tracking_number = (tracking_number or "").strip() if isinstance(tracking_number, str) else None
    if note is None or tracking_number is None or "\x00" in note + tracking_number:
        raise InvalidSellerNote()
    if not (note or tracking_number) or len(note) > SELLER_NOTE_MAX_CHARS \
            or len(tracking_number) > TRACKING_MAX_CHARS:
        raise InvalidSellerNote()
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, seller=seller).first()
        if order is None:
            raise NotFound("No such order.")
        row = Dispute.objects.select_for_update().filter(order=order).first()  # the latest
        if row is None:
            raise NotFound("This order has no dispute.")
        if row.status not in NEEDS_RESPONSE or row.submitted_at is not None or row.accepted_at is not None:
            raise DisputeNotAnswerable("The response to this dispute has already been sent; "
                                       "your note can no longer be added.")
        if (row.seller_note, row.seller_tracking_number) == (note, tracking_number):
            return row  # the same note again (a double click): nothing new
        row.seller_note, row.seller_tracking_number = note, tracking_number
        row.seller_note_at = timezone.now()
        row.save(update_fields=["seller_note", "seller_tracking_number", "seller_note_at", "updated_at"])
        audit_record(action="dispute.seller_note", actor=seller, order=order, request=request,
                     message="The seller added their side to the dispute"
                             + (f" (tracking {tracking_number})" if tracking_number else ""),
                     data={"dispute_id": row.stripe_dispute_id})
    return row


# -- reminders (manage.py send_dispute_reminders, hourly) ---------------------------------------

REMINDER_WINDOW = datetime.timedelta(days=3)


def dispute_deadline_reminders_send(*, now=None, within: datetime.timedelta = REMINDER_WINDOW) -> int:
    """Email each seller whose dispute is due within `within` and who has not added their side
    yet, once per dispute (the audit row `dispute.reminder_sent` is the mark). Returns how many.
    Staff see every deadline on the admin Disputes page."""
    now = now or timezone.now()
    due = Dispute.objects.filter(
        status__in=NEEDS_RESPONSE, submitted_at__isnull=True, accepted_at__isnull=True,
        seller_note_at__isnull=True, evidence_due_by__gt=now, evidence_due_by__lte=now + within,
    ).values_list("pk", flat=True)
    sent = 0
    for dispute_id in list(due):
        with transaction.atomic():
            row = Dispute.objects.select_for_update().select_related("order").get(pk=dispute_id)
            already = AuditEvent.objects.filter(order=row.order, action="dispute.reminder_sent",
                                                data__dispute_id=row.stripe_dispute_id).exists()
            if already or not row.needs_response:
                continue
            audit_record(action="dispute.reminder_sent", order=row.order,
                         message=f"Seller reminded: due {row.evidence_due_by:%Y-%m-%d %H:%M} UTC",
                         data={"dispute_id": row.stripe_dispute_id})
            transaction.on_commit(lambda row=row: notify_dispute_reminder(dispute=row))
            sent += 1
    return sent

