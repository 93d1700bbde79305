"""Writes of the messages feature (docs/architecture.md, "Messages"): asking a question on a
listing, opening an order's conversation, posting (by a party or by staff), reading, reporting a
message, flagging contact details before a sale, handling a report, and the batched emails.

Emails: the other party gets one email for a new message, then at most one per conversation every
MESSAGE_EMAIL_MINUTES: a message that arrives inside that window marks the email as due at its
end, and the beat task `messaging.send_due_message_emails` sends what is due (unless the party
read the conversation meanwhile).
"""

import datetime
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from core.email import email_send
from core.errors import Conflict, DomainError, PermissionDenied
from core.site import absolute_url
from marketplace.models import ListingStatus
from marketplace.selectors import listing_visible_to
from messaging.contact_details import contact_details_find
from messaging.models import (
    MESSAGE_MAX_CHARS,
    Conversation,
    ConversationKind,
    Message,
    MessageReport,
    Participant,
    ReportKind,
    ReportStatus,
)
from messaging.selectors import ConversationNotFound, unread_count_refresh
from payments.models import Order
from payments.services.audit import audit_record

STAFF_NAME = "Stub Collector staff"
# The same text from the same sender in the same conversation within this time is one message
# (a double click, a resent form), not two.
DUPLICATE_WINDOW = datetime.timedelta(seconds=60)
# At most this many messages are quoted in one email.
EMAIL_QUOTED_MESSAGES = 5
REPORT_REASON_MAX_CHARS = 500


def message_email_window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.MESSAGE_EMAIL_MINUTES)


class MessageEmpty(DomainError):
    code = "message_empty"
    message = "Write a message first."


class MessageTooLong(DomainError):
    code = "message_too_long"
    message = f"A message can be at most {MESSAGE_MAX_CHARS} characters."


class OwnListing(Conflict):
    code = "own_listing"
    message = "This is your own listing: buyers ask you questions here."


class ListingNotOnSale(Conflict):
    code = "listing_not_on_sale"
    message = "This stub is no longer on sale, so it takes no new questions."


class OrderNotPaid(Conflict):
    code = "order_not_paid"
    message = "Messages about an order open once it is paid."


class CannotReportOwnMessage(Conflict):
    code = "own_message"
    message = "You cannot report your own message."


class MessageNotText(DomainError):
    code = "message_not_text"
    message = "The message holds characters that are not text."


# Control characters a keyboard does not type (NUL, bell, escape...); line breaks and tabs stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def message_body_clean(body) -> str:
    """The text as typed (line breaks kept, control characters dropped, the ends trimmed);
    MessageEmpty, MessageTooLong, or MessageNotText for a lone surrogate (no encoding holds it)."""
    body = _CONTROL.sub("", (body if isinstance(body, str) else "").replace("\r\n", "\n").replace("\r", "\n"))
    body = body.strip()
    if not body:
        raise MessageEmpty()
    if len(body) > MESSAGE_MAX_CHARS:
        raise MessageTooLong()
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        raise MessageNotText() from None
    return body


def _conversation_get_or_create(**fields) -> Conversation:
    """One conversation for the same keys, also when two requests make it at once."""
    lookup = {key: fields[key] for key in ("kind", "listing_id", "buyer_id", "order_id") if key in fields}
    try:
        with transaction.atomic():
            conversation, created = Conversation.objects.get_or_create(**lookup, defaults=fields)
            if created:
                # In the same transaction: a conversation is never seen without its two parties,
                # or a message posted into it at that moment would be counted unread for nobody.
                Participant.objects.bulk_create(
                    Participant(conversation=conversation, user_id=user_id)
                    for user_id in (conversation.buyer_id, conversation.seller_id)
                )
    except IntegrityError:  # the other request made it first, with its parties
        conversation = Conversation.objects.get(**lookup)
    return conversation


def question_ask(*, listing_id, buyer, body, request=None) -> Message:
    """A buyer's question on a listing: their one conversation about it, made on the first
    question (a listing that is not on sale any more takes no new conversation)."""
    body = message_body_clean(body)
    listing = listing_visible_to(listing_id=listing_id, viewer=buyer)
    existing = Conversation.objects.filter(
        kind=ConversationKind.LISTING, listing=listing, buyer=buyer
    ).first()
    if existing is None:
        question_allowed_check(listing=listing, buyer=buyer)
        existing = _conversation_get_or_create(
            kind=ConversationKind.LISTING,
            listing_id=listing.pk,
            buyer_id=buyer.pk,
            seller_id=listing.seller_id,
        )
    return message_post(conversation_id=existing.pk, sender=buyer, body=body, request=request)


def question_allowed_check(*, listing, buyer) -> None:
    """May `buyer` start a conversation about `listing`? OwnListing or ListingNotOnSale if not."""
    if listing.seller_id == buyer.pk:
        raise OwnListing()
    if listing.status not in (ListingStatus.ACTIVE, ListingStatus.RESERVED):
        raise ListingNotOnSale()


def order_conversation_open(*, order_id, user) -> Conversation:
    """The order's conversation for its buyer or seller (made on first use); 404 for anybody
    else, OrderNotPaid before the sale."""
    try:
        order = Order.objects.get(pk=int(order_id))
    except (Order.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ConversationNotFound() from None
    if user.pk not in (order.buyer_id, order.seller_id):
        raise ConversationNotFound()
    if order.paid_at is None:
        raise OrderNotPaid()
    return _conversation_get_or_create(
        kind=ConversationKind.ORDER,
        order_id=order.pk,
        listing_id=order.listing_id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
    )


@transaction.atomic
def message_post(*, conversation_id, sender, body, request=None) -> Message:
    """A party's message. The same text again within DUPLICATE_WINDOW returns the first one
    (checked under the conversation's lock, so two clicks at once make one message)."""
    body = message_body_clean(body)
    try:
        conversation = Conversation.objects.select_for_update().get(pk=int(conversation_id))
    except (Conversation.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ConversationNotFound() from None
    if sender.pk not in (conversation.buyer_id, conversation.seller_id):
        raise ConversationNotFound()
    now = timezone.now()
    duplicate = conversation.messages.filter(
        sender=sender, as_staff=False, body=body, created_at__gte=now - DUPLICATE_WINDOW
    ).first()
    if duplicate is not None:
        duplicate.duplicate = True
        return duplicate
    message = Message.objects.create(conversation=conversation, sender=sender, body=body)
    _delivered(
        conversation,
        message,
        recipients=[conversation.other_party_id(sender.pk)],
        reader_id=sender.pk,
        now=now,
    )
    if _before_the_sale(conversation):
        _contact_details_flag(message=message, conversation=conversation, request=request)
    message.duplicate = False
    return message


def _delivered(conversation, message, *, recipients: list[int], reader_id: int | None, now) -> None:
    """Count the message as unread for `recipients` (the sender has read it) and, after the
    commit, refresh their header counts and email them (batched)."""
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    Participant.objects.filter(conversation=conversation, user_id__in=recipients).update(
        unread=F("unread") + 1
    )
    if reader_id is not None:
        Participant.objects.filter(conversation=conversation, user_id=reader_id).update(unread=0, read_at=now)
    participants = list(
        Participant.objects.filter(conversation=conversation, user_id__in=recipients).values_list(
            "pk", "user_id"
        )
    )

    def after_commit():
        for participant_id, user_id in participants:
            unread_count_refresh(user_id=user_id)
            message_email_schedule(participant_id=participant_id)
        if reader_id is not None:
            unread_count_refresh(user_id=reader_id)

    transaction.on_commit(after_commit)


def _before_the_sale(conversation: Conversation) -> bool:
    """A listing's conversation whose buyer has not paid for that listing (an order's conversation
    is after the sale by definition)."""
    if conversation.kind != ConversationKind.LISTING:
        return False
    return not Order.objects.filter(
        listing_id=conversation.listing_id, buyer_id=conversation.buyer_id, paid_at__isnull=False
    ).exists()


def _contact_details_flag(*, message: Message, conversation: Conversation, request=None) -> None:
    """Before a sale, contact details go to Support's queue; the message is delivered anyway."""
    found = contact_details_find(message.body)
    if not found:
        return
    MessageReport.objects.create(message=message, kind=ReportKind.CONTACT_DETAILS, reason=", ".join(found))
    audit_record(
        action="message.contact_details_flagged",
        actor=None,
        subject_user=message.sender,
        data={"conversation_id": conversation.pk, "message_id": message.pk, "found": found},
        request=request,
    )


def _require_staff_poster(staff) -> None:
    if not (staff.is_active and staff.is_staff and staff.has_perm("messaging.post_as_staff")):
        raise PermissionDenied("Only Support may post into a conversation.")


@transaction.atomic
def message_post_as_staff(*, conversation_id, staff, body, request=None) -> Message:
    """Support joins a conversation: the message shows as STAFF_NAME to both parties, who are
    both told; audited."""
    _require_staff_poster(staff)
    body = message_body_clean(body)
    try:
        conversation = Conversation.objects.select_for_update().get(pk=int(conversation_id))
    except (Conversation.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ConversationNotFound() from None
    now = timezone.now()
    message = Message.objects.create(conversation=conversation, sender=staff, as_staff=True, body=body)
    _delivered(
        conversation,
        message,
        recipients=[conversation.buyer_id, conversation.seller_id],
        reader_id=None,
        now=now,
    )
    audit_record(
        action="message.staff_posted",
        actor=staff,
        order=conversation.order,
        data={"conversation_id": conversation.pk, "message_id": message.pk},
        request=request,
    )
    return message


def conversation_read(*, conversation: Conversation, user) -> None:
    """The party has seen the conversation: nothing unread, and no email waiting for it."""
    updated = (
        Participant.objects.filter(conversation=conversation, user=user)
        .exclude(unread=0, email_due_at=None)
        .update(unread=0, read_at=timezone.now(), email_due_at=None)
    )
    if updated:
        transaction.on_commit(lambda: unread_count_refresh(user_id=user.pk))


def message_report(*, message_id, reporter, reason="", request=None) -> MessageReport:
    """A party reports the other party's message to Support. Reporting it again returns the first
    report; audited."""
    try:
        message = Message.objects.select_related("conversation").get(pk=int(message_id))
    except (Message.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ConversationNotFound("No such message.", code="message_not_found") from None
    conversation = message.conversation
    if reporter.pk not in (conversation.buyer_id, conversation.seller_id):
        raise ConversationNotFound("No such message.", code="message_not_found")
    if message.sender_id == reporter.pk and not message.as_staff:
        raise CannotReportOwnMessage()
    reason = _CONTROL.sub("", reason if isinstance(reason, str) else "").strip()[:REPORT_REASON_MAX_CHARS]
    try:
        reason.encode("utf-8")
    except UnicodeEncodeError:
        raise MessageNotText() from None
    try:
        with transaction.atomic():
            report = MessageReport.objects.create(
                message=message, kind=ReportKind.ABUSE, reporter=reporter, reason=reason
            )
            audit_record(
                action="message.reported",
                actor=reporter,
                order=conversation.order,
                subject_user=message.sender,
                data={"conversation_id": conversation.pk, "message_id": message.pk, "report_id": report.pk},
                request=request,
            )
    except IntegrityError:  # reported before: one report per message and reporter
        return MessageReport.objects.get(message=message, kind=ReportKind.ABUSE, reporter=reporter)
    return report


@transaction.atomic
def message_report_handle(*, report_id: int, staff, request=None) -> bool:
    """Support closes a report (after warning the user, or finding nothing wrong); audited.
    False when it was closed already."""
    if not staff.has_perm("messaging.change_messagereport"):
        raise PermissionDenied("Only Support handles message reports.")
    report = (
        MessageReport.objects.select_for_update().select_related("message__conversation").get(pk=report_id)
    )
    if report.status == ReportStatus.HANDLED:
        return False
    report.status, report.handled_by, report.handled_at = ReportStatus.HANDLED, staff, timezone.now()
    report.save(update_fields=["status", "handled_by", "handled_at"])
    audit_record(
        action="message.report_handled",
        actor=staff,
        order=report.message.conversation.order,
        subject_user=report.message.sender,
        data={"report_id": report.pk, "kind": report.kind, "message_id": report.message_id},
        request=request,
    )
    return True


# -- emails ---------------------------------------------------------------------------------------


def message_email_schedule(*, participant_id: int, now: datetime.datetime | None = None) -> None:
    """A message arrived for this party: email now, or mark the email due at the window's end."""
    now = now or timezone.now()
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant_id)
        if participant.unread == 0:
            return
        if participant.emailed_at is not None and now - participant.emailed_at < message_email_window():
            if participant.email_due_at is None:
                participant.email_due_at = participant.emailed_at + message_email_window()
                participant.save(update_fields=["email_due_at"])
            return
        _email_send(participant, now=now)


def message_emails_send_due(*, now: datetime.datetime | None = None) -> int:
    """The beat task's work: send every email whose window has ended. Returns how many."""
    now = now or timezone.now()
    sent = 0
    for participant_id in Participant.objects.filter(email_due_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            participant = (
                Participant.objects.select_for_update()
                .filter(pk=participant_id, email_due_at__lte=now)
                .first()
            )
            if participant is None:
                continue  # sent or read meanwhile
            if participant.unread == 0:
                participant.email_due_at = None
                participant.save(update_fields=["email_due_at"])
                continue
            _email_send(participant, now=now)
            sent += 1
    return sent


def _email_send(participant: Participant, *, now) -> None:
    """Under the participant's lock: queue the email after the commit and note when."""
    participant.emailed_at, participant.email_due_at = now, None
    participant.save(update_fields=["emailed_at", "email_due_at"])
    conversation = Conversation.objects.select_related("listing__stub", "buyer", "seller").get(
        pk=participant.conversation_id
    )
    recent = list(
        conversation.messages.exclude(sender_id=participant.user_id, as_staff=False)
        .select_related("sender")
        .order_by("-created_at", "-pk")[: min(participant.unread, EMAIL_QUOTED_MESSAGES)]
    )
    recent.reverse()
    recipient = conversation.buyer if participant.user_id == conversation.buyer_id else conversation.seller
    other = conversation.seller if recipient == conversation.buyer else conversation.buyer
    context = {
        "recipient": recipient,
        "other": other,
        "conversation": conversation,
        "stub": conversation.listing.stub,
        "messages": [
            {
                "sender": STAFF_NAME if m.as_staff else other.display_name,
                "body": m.body,
                "created_at": m.created_at,
            }
            for m in recent
        ],
        "more": max(participant.unread - len(recent), 0),
        "url": absolute_url(reverse("messaging:conversation", args=[conversation.pk])),
    }
    subject = f"New message about {conversation.listing.stub.event_name}"
    transaction.on_commit(
        lambda: email_send(to=recipient.email, subject=subject, template="message_new", context=context)
    )
