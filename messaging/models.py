"""Conversations, their messages, each party's reading and email state, and reports to staff.

A conversation is either a listing's (a buyer's questions before buying: one per buyer and
listing) or an order's (after the sale: one per order, between its buyer and seller). Its two
parties each have a `Participant` row holding what is theirs: unread messages, when they last
read, when they were last emailed. Staff are not parties: they read in admin and post as staff,
so a later problem report can point at an order's conversation and Support can join it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

MESSAGE_MAX_CHARS = 2000


class ConversationKind(models.TextChoices):
    LISTING = "listing", "Question about a listing"
    ORDER = "order", "Order"


class Conversation(models.Model):
    kind = models.CharField(max_length=8, choices=ConversationKind.choices)
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.PROTECT, related_name="conversations")
    order = models.OneToOneField(
        "payments.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="conversation"
    )
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "buyer"], condition=Q(kind="listing"), name="messaging_one_question_thread"
            ),
            models.CheckConstraint(
                condition=(Q(kind="order") & Q(order__isnull=False))
                | (Q(kind="listing") & Q(order__isnull=True)),
                name="messaging_order_iff_order_kind",
            ),
            models.CheckConstraint(condition=~Q(buyer=models.F("seller")), name="messaging_two_parties"),
        ]
        permissions = [("post_as_staff", "Can post into a conversation as Stub Collector staff")]

    def __str__(self) -> str:
        if self.kind == ConversationKind.ORDER:
            return f"Order #{self.order_id} messages"
        return f"Questions on listing #{self.listing_id}"

    def other_party_id(self, user_id: int) -> int:
        return self.seller_id if user_id == self.buyer_id else self.buyer_id


class Participant(models.Model):
    """One party's side of a conversation: what they have not read and when they were emailed."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    unread = models.PositiveIntegerField(default=0)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Set while an email waits for the batching window (messaging.services.MESSAGE_EMAIL_WINDOW).
    email_due_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="messaging_one_participant")
        ]
        indexes = [models.Index(fields=["user", "unread"], name="messaging_unread_idx")]

    def __str__(self) -> str:
        return f"User #{self.user_id} in conversation #{self.conversation_id}"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Posted by staff into the conversation: shown as "Stub Collector staff", not by name.
    as_staff = models.BooleanField(default=False)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Message #{self.pk}"


class ReportKind(models.TextChoices):
    ABUSE = "abuse", "Reported as abuse"
    CONTACT_DETAILS = "contact_details", "Contact details before a sale"


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    HANDLED = "handled", "Handled"


class MessageReport(models.Model):
    """Something on a message for Support to look at: a party's abuse report, or the contact
    details the detector found in a message before a sale (messaging/contact_details.py)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "reporter"], condition=Q(kind="abuse"), name="messaging_one_abuse_report"
            ),
            models.UniqueConstraint(
                fields=["message"], condition=Q(kind="contact_details"), name="messaging_one_contact_flag"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
