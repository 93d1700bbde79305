"""Writes of problem reports (docs/architecture.md, "Problem reports").

The steps, each under the report's row lock, emailed (problems.notifications), audited
(`problem.*` actions, which the order's timeline reads through problems.order_words):

    report (buyer) ──► awaiting_seller ──reply / part refund──► answered ──escalate (buyer)──┐
                          │  └─ seller's deadline passes (beat) ──────────────► with_support ◄┘
                          └─ full refund (seller) / close (buyer) ─► closed    │  refund / decline (Support)
                          answered ── buyer's deadline passes (beat) ─► closed ◄┘

Refunds go through payments' refund service (`refund_request`: the seller's own sale, or Support
within Support's limits, above which Finance approves). Stripe is called outside the report's
lock; the report then records what was refunded under its lock, so a refund and an escalation
arriving together end the same way in either order (a refund in full closes the report wherever
it stood; an escalation of an order refunded in full is refused).
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.queue import enqueue_on_commit, enqueue_on_commit_or_run_here
from core.storage import evidence_storage, storage_errors
from marketplace import images
from marketplace.models import PhotoState
from marketplace.photos import PHOTO_REQUEUE_BATCH, photo_requeue_claimed
from marketplace.pricing import format_usd
from messaging.services import (
    MessageEmpty,
    MessageNotText,
    MessageTooLong,
    message_body_clean,
    message_post,
    order_conversation_open,
)
from payments.models import REFUND_FINAL_STATUSES, Order, OrderStatus, Refund, RefundApproval
from payments.services.audit import audit_record
from payments.services.refunds import refund_request
from problems import notifications
from problems.models import (
    DECISION_NOTE_MAX_CHARS,
    DESCRIPTION_MAX_CHARS,
    MAX_PROBLEM_PHOTOS,
    Escalation,
    ProblemKind,
    ProblemOutcome,
    ProblemPhoto,
    ProblemReport,
    ProblemStatus,
)
from problems.selectors import ProblemNotFound

logger = logging.getLogger(__name__)
S = ProblemStatus
PHOTO_TASK = "problems.photo_process"
DECIDE_PERMISSION = "problems.decide_problemreport"
# Orders a buyer may report on: paid, and neither refunded in full nor lost to a card dispute.
REPORTABLE_ORDER_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_REFUNDED,
)


class InvalidProblemKind(DomainError):
    code = "invalid_problem_kind"
    message = "Choose what is wrong: not received, or not as described."


class InvalidProblemPhoto(DomainError):
    code = "invalid_problem_photo"
    message = "That file is not a photo we can take."


class InvalidProblemAmount(DomainError):
    code = "invalid_amount"
    message = "Give the amount to refund in cents (a whole number above 0), or none for all that is left."


class InvalidDecision(DomainError):
    code = "invalid_decision"
    message = "Choose a decision: refund or decline."


class OrderNotReportable(Conflict):
    code = "order_not_reportable"


class ReportTooEarly(Conflict):
    code = "report_too_early"


class ReportClosed(Conflict):
    code = "problem_closed"
    message = "This problem report is closed."


class AlreadyEscalated(Conflict):
    code = "problem_already_escalated"
    message = "This problem report is already with our Support team."


class SellerStillHasTime(Conflict):
    code = "seller_still_has_time"


class NotWithSupport(Conflict):
    code = "problem_not_with_support"
    message = "Support decides a report once it is with Support."


def _days(setting: str) -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, setting))


def _when(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%-d %B %Y, %H:%M")


# -- reading input ------------------------------------------------------------------------------


def problem_kind_parse(value) -> str:
    if not isinstance(value, str) or value not in ProblemKind.values:
        raise InvalidProblemKind()
    return value


def problem_text_clean(value, *, max_chars: int = DESCRIPTION_MAX_CHARS, required: bool = True) -> str:
    """Text as typed (messaging's rules: control characters dropped, ends trimmed); a 400 when
    empty (if required), too long or not text."""
    if not required and (value is None or (isinstance(value, str) and not value.strip())):
        return ""
    try:
        text = message_body_clean(value)
    except MessageEmpty:
        raise DomainError("Say what is wrong first.", code="problem_text_empty") from None
    except MessageTooLong:
        raise DomainError(f"Write at most {max_chars} characters.", code="problem_text_too_long") from None
    except MessageNotText:
        raise DomainError(
            "The text holds characters that are not text.", code="problem_text_not_text"
        ) from None
    if len(text) > max_chars:
        raise DomainError(f"Write at most {max_chars} characters.", code="problem_text_too_long")
    return text


def problem_amount_parse(value) -> int | None:
    """Cents for a JSON body (None/"" for all that is left)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidProblemAmount()
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value <= 0 or value > 99_999_999:
        raise InvalidProblemAmount()
    return value


# -- when a buyer may report --------------------------------------------------------------------


def not_received_from(order: Order) -> datetime.datetime | None:
    """When "not received" may first be reported: the end of the expected delivery window after
    payment (PROBLEM_DELIVERY_WINDOW_DAYS), or PROBLEM_NOT_RECEIVED_AFTER_SHIPPING_DAYS after the
    seller shipped it, whichever comes first."""
    if order.paid_at is None:
        return None
    earliest = order.paid_at + _days("PROBLEM_DELIVERY_WINDOW_DAYS")
    if order.shipped_at is not None:
        earliest = min(earliest, order.shipped_at + _days("PROBLEM_NOT_RECEIVED_AFTER_SHIPPING_DAYS"))
    return earliest


def problem_report_check(*, order: Order, kind: str, now=None) -> None:
    """Raise why the buyer may not report `kind` on `order` now: OrderNotReportable, or
    ReportTooEarly with the date they may. A report that exists already is not checked here:
    reporting again shows it."""
    now = now or timezone.now()
    if order.paid_at is None or order.status not in REPORTABLE_ORDER_STATUSES:
        if order.status == OrderStatus.DISPUTED:
            raise OrderNotReportable("You disputed this payment with your bank: the bank decides now.")
        raise OrderNotReportable(
            f"Only a paid order can have a problem report; this one is {order.get_status_display().lower()}."
        )
    if now > order.paid_at + _days("PROBLEM_REPORT_WITHIN_DAYS"):
        raise OrderNotReportable(
            f"Problems can be reported up to {settings.PROBLEM_REPORT_WITHIN_DAYS} days after payment; "
            "that time has passed."
        )
    if kind == ProblemKind.NOT_RECEIVED:
        if order.completed_at is not None:
            raise OrderNotReportable("You confirmed this stub arrived.")
        earliest = not_received_from(order)
        if now < earliest:
            raise ReportTooEarly(
                f"Stubs can take a while in the post: you can report it not received from "
                f"{_when(earliest)}. Until then, ask the seller in the order's messages."
            )
    if kind == ProblemKind.NOT_AS_DESCRIBED and order.shipped_at is None:
        raise OrderNotReportable(
            "The seller has not shipped this stub yet: you can report it not as described once it arrives."
        )


def problem_kinds_open(*, order: Order, now=None) -> list[str]:
    """The kinds the buyer may report on `order` now (the order page's offer)."""
    open_kinds = []
    for kind in ProblemKind.values:
        try:
            problem_report_check(order=order, kind=kind, now=now)
        except DomainError:
            continue
        open_kinds.append(kind)
    return open_kinds


# -- the buyer reports ----------------------------------------------------------------------------


def _photos_check(photos) -> list[tuple[object, str]]:
    photos = [photo for photo in photos or [] if photo]
    if len(photos) > MAX_PROBLEM_PHOTOS:
        raise InvalidProblemPhoto(f"Add at most {MAX_PROBLEM_PHOTOS} photos.", code="too_many_photos")
    checked = []
    for photo in photos:
        try:
            checked.append((photo, images.validate_stub_photo(photo)))  # the header only
        except ValidationError as error:
            raise InvalidProblemPhoto(
                f"{getattr(photo, 'name', 'A photo')}: {' '.join(error.messages)}"
            ) from None
    return checked


def problem_report_open(
    *, order_id, buyer, kind, description, photos=(), request=None, now=None
) -> tuple[ProblemReport, bool]:
    """The buyer's report on their paid order, with its photos; (report, created). Reporting on an
    order that has one already returns that one (a double submit is one report)."""
    kind = problem_kind_parse(kind)
    description = problem_text_clean(description)
    checked = _photos_check(photos)
    now = now or timezone.now()
    with transaction.atomic():
        try:
            order = (
                Order.objects.select_for_update(of=("self",))
                .select_related("listing__stub")
                .get(pk=int(order_id))
            )
        except (Order.DoesNotExist, ValueError, TypeError, OverflowError):
            raise NotFound("No such order.", code="order_not_found") from None
        if not getattr(buyer, "is_authenticated", False) or order.buyer_id != buyer.pk:
            raise NotFound("No such order.", code="order_not_found")
        existing = ProblemReport.objects.filter(order=order).first()
        if existing is not None:
            return existing, False
        problem_report_check(order=order, kind=kind, now=now)
        conversation = order_conversation_open(order_id=order.pk, user=buyer)
        report = ProblemReport.objects.create(
            order=order,
            buyer_id=order.buyer_id,
            seller_id=order.seller_id,
            kind=kind,
            description=description,
            conversation=conversation,
            seller_due_at=now + _days("PROBLEM_SELLER_ANSWER_DAYS"),
        )
        for position, (upload, image_format) in enumerate(checked):
            photo = ProblemPhoto(report=report, position=position)
            with storage_errors("keeping a problem report photo"):
                photo.upload.save(images.upload_name(image_format), upload, save=False)
            photo.save()
            # Run in this request if the broker refuses it (Redis away), not lost: a report's
            # evidence must not stay a placeholder until beat's sweep (problem_photos_requeue_lost).
            # At most MAX_PROBLEM_PHOTOS decodes of checked uploads (about a second each at the
            # pixel limit), and only while the broker is away (as marketplace.photos).
            enqueue_on_commit_or_run_here(PHOTO_TASK, photo_id=photo.pk)
        audit_record(
            action="problem.reported",
            actor=buyer,
            order=order,
            subject_user=order.seller,
            request=request,
            message=f"Problem reported: {report.get_kind_display().lower()}, {len(checked)} photo(s)",
            data={"report": report.pk, "kind": kind, "photos": len(checked)},
        )
        notifications.notify_reported(report)
    return report, True


# -- reading a report for its parties -----------------------------------------------------------


def _lock(report_id) -> ProblemReport:
    """The report, locked, after its order: the order's lock first, as every refund takes it, so
    a report's step and a refund of the same order queue up instead of deadlocking."""
    try:
        order_id = ProblemReport.objects.filter(pk=int(report_id)).values_list("order_id", flat=True).first()
    except (ValueError, TypeError, OverflowError):
        order_id = None
    if order_id is None:
        raise ProblemNotFound()
    list(Order.objects.select_for_update().filter(pk=order_id).values_list("pk"))
    return (
        ProblemReport.objects.select_for_update(of=("self",))
        .select_related("order__listing__stub", "buyer", "seller")
        .get(pk=int(report_id))
    )


def _lock_for(report_id, user, role: str) -> ProblemReport:
    report = _lock(report_id)
    if not getattr(user, "is_authenticated", False) or getattr(report, f"{role}_id") != user.pk:
        # The other party learns it exists (they see it on the order), strangers do not.
        if getattr(user, "is_authenticated", False) and user.pk in (report.buyer_id, report.seller_id):
            raise PermissionDenied(f"Only the {role} can do that.", code=f"not_the_{role}")
        raise ProblemNotFound()
    return report


def _require_open(report: ProblemReport) -> None:
    if not report.is_open:
        raise ReportClosed()


def _close(report: ProblemReport, *, outcome: str, now, actor=None, request=None, note: str = "") -> None:
    report.status, report.outcome, report.closed_at = S.CLOSED, outcome, now
    report.save(update_fields=["status", "outcome", "closed_at", "decided_by", "decision_note"])
    audit_record(
        action="problem.closed",
        actor=actor,
        order=report.order,
        subject_user=report.seller,
        request=request,
        message=f"Problem report closed: {ProblemOutcome(outcome).label.lower()}"
        + (f" — {note}" if note else ""),
        data={"report": report.pk, "outcome": outcome},
    )


# -- the seller answers -------------------------------------------------------------------------


def problem_reply(*, report_id, seller, body, request=None, now=None):
    """The seller's answer, posted in the order's conversation. The first answer moves the report
    from waiting for the seller to answered, which starts the buyer's time to escalate."""
    body = problem_text_clean(body)
    now = now or timezone.now()
    with transaction.atomic():
        report = _lock_for(report_id, seller, "seller")
        _require_open(report)
        message = message_post(
            conversation_id=report.conversation_id, sender=seller, body=body, request=request
        )
        if report.status == S.AWAITING_SELLER:
            _answered(report, now=now, actor=seller, request=request, how="replied")
    return message


def _answered(report: ProblemReport, *, now, actor, request, how: str) -> None:
    report.status, report.answered_at = S.ANSWERED, now
    report.buyer_due_at = now + _days("PROBLEM_BUYER_ESCALATE_DAYS")
    report.save(update_fields=["status", "answered_at", "buyer_due_at"])
    audit_record(
        action="problem.answered",
        actor=actor,
        order=report.order,
        request=request,
        message=f"Seller answered the problem report ({how})",
        data={"report": report.pk, "how": how},
    )
    notifications.notify_answered(report)


def problem_refund(*, report_id, seller, amount_cents=None, request_token: str = "", request=None, now=None):
    """The seller refunds all (default) or part of the order through payments' refund service,
    with the report's kind as the reason. A refund in full closes the report; a part answers it."""
    with transaction.atomic():
        report = _lock_for(report_id, seller, "seller")
        _require_open(report)
    refund = refund_request(
        order_id=report.order_id,
        actor=seller,
        amount_cents=amount_cents,
        reason=report.kind,
        request_token=request_token,
        request=request,
    )
    _refund_recorded(
        report_id=report.pk, refund=refund, actor=seller, by_support=False, request=request, now=now
    )
    return refund


def _left_to_refund(order: Order) -> int:
    counting = Refund.objects.filter(order=order).exclude(status__in=REFUND_FINAL_STATUSES)
    return order.amount_cents - (counting.aggregate(total=Sum("amount_cents"))["total"] or 0)


@transaction.atomic
def _refund_recorded(*, report_id, refund, actor, by_support: bool, request, now=None) -> ProblemReport:
    """Under the report's lock: count the refund on the report and move it on (closed when nothing
    is left to refund). A refund that failed at Stripe changes nothing; the same refund again (a
    double submit answered with the first row) is counted once."""
    now = now or timezone.now()
    report = _lock(report_id)
    if not isinstance(refund, Refund) or refund.status in REFUND_FINAL_STATUSES:
        return report
    if report.order.audit_events.filter(action="problem.refunded", data__refund=refund.pk).exists():
        return report
    report.refunded_cents += refund.amount_cents
    report.save(update_fields=["refunded_cents"])
    amount = format_usd(refund.amount_cents)
    audit_record(
        action="problem.refunded",
        actor=actor,
        order=report.order,
        request=request,
        message=f"Refund of {amount} through the problem report ({'Support' if by_support else 'seller'})",
        data={
            "report": report.pk,
            "refund": refund.pk,
            "amount_cents": refund.amount_cents,
            "by_support": by_support,
        },
    )
    closed = False
    if report.is_open and _left_to_refund(report.order) <= 0:
        outcome = ProblemOutcome.SUPPORT_REFUNDED if by_support else ProblemOutcome.REFUNDED
        if by_support:
            report.decided_by = actor
        _close(report, outcome=outcome, now=now, actor=actor, request=request)
        closed = True
    elif report.status == S.AWAITING_SELLER and not by_support:
        _answered(report, now=now, actor=actor, request=request, how=f"refunded {amount}")
    notifications.notify_refunded(report, amount=amount, closed=closed, by_support=by_support)
    return report


# -- the buyer escalates or closes ----------------------------------------------------------------


@transaction.atomic
def problem_escalate(*, report_id, buyer, request=None, now=None) -> ProblemReport:
    """The buyer takes the report to Support: once the seller answered, or their time ran out."""
    now = now or timezone.now()
    report = _lock_for(report_id, buyer, "buyer")
    _require_open(report)
    if report.status == S.WITH_SUPPORT:
        raise AlreadyEscalated()
    if _left_to_refund(report.order) <= 0:
        raise Conflict("The order is refunded in full already.", code="problem_refunded")
    if report.status == S.AWAITING_SELLER and now < report.seller_due_at:
        raise SellerStillHasTime(
            f"The seller has until {_when(report.seller_due_at)} to answer; if they do not, "
            "the report goes to our Support team by itself."
        )
    _escalate(report, how=Escalation.BUYER, now=now, actor=buyer, request=request)
    return report


def _escalate(report: ProblemReport, *, how: str, now, actor=None, request=None) -> None:
    report.status, report.escalated_at, report.escalation = S.WITH_SUPPORT, now, how
    report.save(update_fields=["status", "escalated_at", "escalation"])
    audit_record(
        action="problem.escalated",
        actor=actor,
        order=report.order,
        subject_user=report.seller,
        request=request,
        message=f"Problem report sent to Support: {Escalation(how).label.lower()}",
        data={"report": report.pk, "escalation": how},
    )
    notifications.notify_escalated(report)


@transaction.atomic
def problem_close(*, report_id, buyer, request=None, now=None) -> ProblemReport:
    """The buyer closes their report (the stub arrived, or the seller's answer settles it)."""
    report = _lock_for(report_id, buyer, "buyer")
    _require_open(report)
    _close(
        report, outcome=ProblemOutcome.BUYER_CLOSED, now=now or timezone.now(), actor=buyer, request=request
    )
    notifications.notify_closed(report)
    return report


# -- deadlines (the beat task) --------------------------------------------------------------------


def problem_deadlines_apply(*, now=None) -> dict[str, int]:
    """Move on the reports whose time ran out: waiting for the seller past their deadline go to
    Support; answered ones whose buyer did not escalate in time close. Each is re-read under its
    lock, so a step taken meanwhile wins. Returns how many of each."""
    now = now or timezone.now()
    moved = {"escalated": 0, "closed": 0}
    late = ProblemReport.objects.filter(status=S.AWAITING_SELLER, seller_due_at__lte=now)
    for report_id in late.values_list("pk", flat=True):
        with transaction.atomic():
            report = _lock(report_id)
            if report.status == S.AWAITING_SELLER and report.seller_due_at <= now:
                _escalate(report, how=Escalation.DEADLINE, now=now)
                moved["escalated"] += 1
    lapsed = ProblemReport.objects.filter(status=S.ANSWERED, buyer_due_at__lte=now)
    for report_id in lapsed.values_list("pk", flat=True):
        with transaction.atomic():
            report = _lock(report_id)
            if report.status == S.ANSWERED and report.buyer_due_at <= now:
                _close(report, outcome=ProblemOutcome.LAPSED, now=now)
                notifications.notify_closed(report)
                moved["closed"] += 1
    return moved


# -- Support decides ----------------------------------------------------------------------------


def problem_can_decide(*, user) -> bool:
    return bool(user and user.is_active and user.is_staff and user.has_perm(DECIDE_PERMISSION))


def problem_decide(
    *,
    report_id,
    staff,
    decision: str,
    amount_cents=None,
    note: str = "",
    request_token: str = "",
    request=None,
    now=None,
) -> ProblemReport | RefundApproval:
    """Support's decision on a report with Support: `refund` (all that is left, or `amount_cents`)
    through the refund service, whose Support limits apply (above them it returns the
    RefundApproval waiting for Finance and the report stays with Support), or `decline` (for the
    seller). The note goes to both parties."""
    if not problem_can_decide(user=staff):
        raise PermissionDenied("Only Support decides problem reports.")
    if decision not in ("refund", "decline"):
        raise InvalidDecision()
    note = problem_text_clean(note, max_chars=DECISION_NOTE_MAX_CHARS, required=decision == "decline")
    now = now or timezone.now()
    with transaction.atomic():
        report = _lock(report_id)
        _require_open(report)
        if report.status != S.WITH_SUPPORT:
            raise NotWithSupport()
        if decision == "decline":
            report.decided_by, report.decision_note = staff, note
            _close(
                report,
                outcome=ProblemOutcome.SUPPORT_DECLINED,
                now=now,
                actor=staff,
                request=request,
                note=note,
            )
            notifications.notify_closed(report)
            return report
        report.decision_note = note
        report.save(update_fields=["decision_note"])
        if _left_to_refund(report.order) <= 0:
            # Refunded in full meanwhile (Finance approved Support's earlier request, or the seller
            # refunded from the order page): the decision closes the report, nothing is sent.
            report.decided_by = staff
            _close(
                report,
                outcome=ProblemOutcome.SUPPORT_REFUNDED,
                now=now,
                actor=staff,
                request=request,
                note=note,
            )
            notifications.notify_closed(report)
            return report
    refund = refund_request(
        order_id=report.order_id,
        actor=staff,
        amount_cents=amount_cents,
        reason=report.kind,
        note=f"Problem report #{report.pk}" + (f": {note}" if note else ""),
        buyer_note=note[:500],
        request_token=request_token,
        request=request,
    )
    if isinstance(refund, RefundApproval):
        audit_record(
            action="problem.refund_awaits_finance",
            actor=staff,
            order=report.order,
            request=request,
            message=f"Refund of {format_usd(refund.amount_cents)} above Support's limits: waits for Finance",
            data={"report": report.pk, "approval": refund.pk},
        )
        return refund
    return _refund_recorded(
        report_id=report.pk, refund=refund, actor=staff, by_support=True, request=request, now=now
    )


# -- a card dispute on the same order -----------------------------------------------------------


def problem_follow_order_status(
    sender, *, order: Order, from_status, to_status, stripe_event_id="", **kwargs
) -> None:
    """Receiver of payments.signals.order_status_changed: a card dispute opened on an order with
    an open report is noted on the report (the dispute's page links to it and can take its
    messages and photos as evidence)."""
    if to_status != OrderStatus.DISPUTED:
        return
    report = (
        ProblemReport.objects.select_for_update().filter(order=order, dispute_opened_at__isnull=True).first()
    )
    if report is None:
        return
    report.dispute_opened_at = timezone.now()
    report.save(update_fields=["dispute_opened_at"])
    audit_record(
        action="problem.dispute_linked",
        order=order,
        stripe_event_id=stripe_event_id,
        message=f"Card dispute opened on an order with problem report #{report.pk}",
        data={"report": report.pk},
    )


# -- photos -------------------------------------------------------------------------------------


def problem_photo_process(*, photo_id: int) -> str:
    """The photo task's work: decode the kept upload once (marketplace.images.photo_render: upright,
    no metadata) and keep the photo and its thumbnail privately. "ready", "failed" or "gone".
    Safe to run twice (beat's sweep queues a lost task again): the first to settle the photo
    wins, the second deletes the files it made."""
    photo = ProblemPhoto.objects.filter(pk=photo_id).first()
    if photo is None or photo.state != PhotoState.PROCESSING:
        return "gone"
    processing = ProblemPhoto.objects.filter(pk=photo_id, state=PhotoState.PROCESSING)
    try:
        with storage_errors("reading a problem photo"), evidence_storage().open(photo.upload.name) as upload:
            (name, content), (thumb_name, thumb_content) = images.photo_render(upload)
    except (FileNotFoundError, ValidationError):
        # Not a picture, or its kept upload is gone: nothing can ever make it one.
        return "failed" if problem_photo_fail(photo_id=photo_id) else "gone"
    field = ProblemPhoto._meta.get_field("image")
    storage = evidence_storage()
    with storage_errors("keeping a problem photo"):
        image_name = storage.save(field.generate_filename(None, name), content)
        thumb_name = storage.save(field.generate_filename(None, thumb_name), thumb_content)
    if processing.update(image=image_name, thumbnail=thumb_name, state=PhotoState.READY):
        return "ready"
    images.delete_files(storage, image_name, thumb_name)
    return "gone"


def problem_photo_fail(*, photo_id: int) -> bool:
    """Mark the photo failed unless it was settled meanwhile; whether it was marked."""
    return bool(ProblemPhoto.objects.filter(pk=photo_id, state=PhotoState.PROCESSING)
                .update(state=PhotoState.FAILED))


def problem_photos_requeue_lost(*, now=None) -> dict[str, int]:
    """Beat, every minute: a report photo whose task was lost (a worker killed, Redis restarted
    empty) has its task queued again once it has waited PHOTO_REQUEUE_AFTER_SECONDS, at most
    once per that long, and is marked failed past PHOTO_GIVE_UP_AFTER_SECONDS, as
    marketplace.photos.stub_photos_requeue_lost does for stub photos. A photo row is made with
    its upload, so its age is the row's."""
    now = now or timezone.now()
    again = datetime.timedelta(seconds=settings.PHOTO_REQUEUE_AFTER_SECONDS)
    give_up = datetime.timedelta(seconds=settings.PHOTO_GIVE_UP_AFTER_SECONDS)
    waiting = ProblemPhoto.objects.filter(state=PhotoState.PROCESSING, created_at__lte=now - again)
    report = {"queued": 0, "failed": 0}
    given_up = waiting.filter(created_at__lt=now - give_up)
    given_up_ids = list(given_up.values_list("pk", flat=True)[:PHOTO_REQUEUE_BATCH])
    if given_up_ids:
        logger.warning("Problem report photos %s still processing after %s; marked failed", given_up_ids,
                       give_up, extra={"event": "photo.given_up", "problem_photos": given_up_ids})
        report["failed"] = sum(problem_photo_fail(photo_id=photo_id) for photo_id in given_up_ids)
    for photo_id in waiting.order_by("pk").values_list("pk", flat=True)[:PHOTO_REQUEUE_BATCH]:
        if photo_requeue_claimed(f"problem:{photo_id}"):
            logger.warning("Problem report photo %s still processing; its task is queued again", photo_id,
                           extra={"event": "photo.requeued", "problem_photo": photo_id})
            enqueue_on_commit(PHOTO_TASK, photo_id=photo_id)
            report["queued"] += 1
    return report
