"""Problem reports: a buyer tells us a paid stub did not arrive or is not as described, and the
seller, then Support, put it right (docs/architecture.md, "Problem reports").

One report per order. Its messages are the order's conversation (messaging), which Support reads
and joins in admin; its photos are kept in the private `evidence` storage (core/storage.py) and
shown only to the buyer, the seller and staff, through our own view.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.storage import evidence_storage
from marketplace.models import PhotoState

DESCRIPTION_MAX_CHARS = 2000
DECISION_NOTE_MAX_CHARS = 1000
MAX_PROBLEM_PHOTOS = 4


class ProblemKind(models.TextChoices):
    # The values are MarketplaceRefundReason's, so a refund through a report carries its reason.
    NOT_RECEIVED = "not_received", "Not received"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"


class ProblemStatus(models.TextChoices):
    AWAITING_SELLER = "awaiting_seller", "Waiting for the seller"
    ANSWERED = "answered", "Answered by the seller"
    WITH_SUPPORT = "with_support", "With Support"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (ProblemStatus.AWAITING_SELLER, ProblemStatus.ANSWERED, ProblemStatus.WITH_SUPPORT)


class ProblemOutcome(models.TextChoices):
    REFUNDED = "refunded", "Refunded in full by the seller"
    BUYER_CLOSED = "buyer_closed", "Closed by the buyer"
    LAPSED = "lapsed", "Closed: the buyer did not take the seller's answer further"
    SUPPORT_REFUNDED = "support_refunded", "Refunded by Support"
    SUPPORT_DECLINED = "support_declined", "Support decided for the seller"


# Outcomes the seller's public record counts as resolved: everything except a refund Support had
# to make in the seller's place.
RESOLVED_OUTCOMES = (
    ProblemOutcome.REFUNDED,
    ProblemOutcome.BUYER_CLOSED,
    ProblemOutcome.LAPSED,
    ProblemOutcome.SUPPORT_DECLINED,
)


class Escalation(models.TextChoices):
    BUYER = "buyer", "The buyer asked Support"
    DEADLINE = "deadline", "The seller did not answer in time"


class ProblemReport(models.Model):
    order = models.OneToOneField("payments.Order", on_delete=models.PROTECT, related_name="problem_report")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ProblemKind.choices)
    status = models.CharField(
        max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.AWAITING_SELLER
    )
    outcome = models.CharField(max_length=20, choices=ProblemOutcome.choices, blank=True)
    description = models.TextField()
    # The order's conversation: the report's messages, which Support reads and joins in admin.
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Deadlines (problems.services): the seller's to answer, then the buyer's to escalate.
    seller_due_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    buyer_due_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True, db_index=True)
    escalation = models.CharField(max_length=8, choices=Escalation.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # What refunds through the report asked for, in cents (the refund rows are the order's).
    refunded_cents = models.PositiveIntegerField(default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    # A card dispute opened on the order while the report was there (disputes link to it).
    dispute_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("decide_problemreport", "Can decide problem reports (refund or decline)")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="closed") & Q(closed_at__isnull=False) & ~Q(outcome=""))
                | (~Q(status="closed") & Q(closed_at__isnull=True) & Q(outcome="")),
                name="problem_closed_has_outcome",
            ),
            models.CheckConstraint(condition=~Q(buyer=models.F("seller")), name="problem_two_parties"),
        ]
        indexes = [
            models.Index(fields=["status", "seller_due_at"], name="problem_status_due_idx"),
            models.Index(fields=["seller", "status"], name="problem_seller_idx"),
        ]

    def __str__(self) -> str:
        return f"Problem report #{self.pk} on order #{self.order_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ProblemPhoto(models.Model):
    """A buyer's photo of what arrived. The upload is checked like a stub photo
    (marketplace.images: format, bytes, pixels) and kept privately; the photo task re-encodes it
    without metadata and makes a thumbnail, both private too."""

    report = models.ForeignKey(ProblemReport, on_delete=models.CASCADE, related_name="photos")
    position = models.PositiveSmallIntegerField(default=0)
    upload = models.FileField(storage=evidence_storage, upload_to="problems/incoming/", max_length=200)
    image = models.FileField(storage=evidence_storage, upload_to="problems/", max_length=200, blank=True)
    thumbnail = models.FileField(storage=evidence_storage, upload_to="problems/", max_length=200, blank=True)
    state = models.CharField(max_length=12, choices=PhotoState.choices, default=PhotoState.PROCESSING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        # Beat's sweep for photos whose task was lost reads the few processing ones every minute.
        indexes = [models.Index(fields=["created_at"], condition=Q(state="processing"),
                                name="problemphoto_processing_idx")]

    def __str__(self) -> str:
        return f"Photo {self.position + 1} of problem report #{self.report_id}"
