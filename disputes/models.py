"""Card disputes (chargebacks and inquiries) on orders, and the documents sent with their evidence.

The tables kept the names they had when these models lived in payments (`payments_dispute`,
`payments_disputeevidencefile`): the move was made in the migration state only
(disputes/migrations/0001_initial.py, payments/migrations/0016_disputes_moved_out.py).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.money import format_usd
from core.storage import evidence_storage
from payments.models import Order


class DisputeStatus(models.TextChoices):
    # Stripe's full set (https://docs.stripe.com/api/disputes/object#dispute_object-status).
    # A status Stripe adds later is stored as it comes and audited (disputes.services).
    WARNING_NEEDS_RESPONSE = "warning_needs_response", "Inquiry: needs response"
    WARNING_UNDER_REVIEW = "warning_under_review", "Inquiry: under review"
    WARNING_CLOSED = "warning_closed", "Inquiry: closed without a chargeback"
    NEEDS_RESPONSE = "needs_response", "Needs response"
    UNDER_REVIEW = "under_review", "Under review"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    PREVENTED = "prevented", "Prevented"


# Stripe's statuses by what they do to the order (docs/architecture.md, "Disputes").
DISPUTE_OPEN = frozenset({"warning_needs_response", "warning_under_review", "needs_response", "under_review"})
# warning_closed: an inquiry that never became a chargeback; it leaves the seller the money, as a
# won dispute does.
DISPUTE_WON = frozenset({"won", "warning_closed"})
DISPUTE_LOST = frozenset({"lost"})
# prevented: Stripe's dispute prevention stopped it before a chargeback by refunding the buyer
# (case type `resolution`) or blocking it (`block`). No dispute fee, but not a win: nothing
# comes back, and a refund it made arrives as a refund.
# https://docs.stripe.com/changelog/basil/2025-08-27/add-preventions-to-dispute
DISPUTE_PREVENTED = frozenset({"prevented"})
DISPUTE_CLOSED = DISPUTE_WON | DISPUTE_LOST | DISPUTE_PREVENTED
DISPUTE_KNOWN = DISPUTE_OPEN | DISPUTE_CLOSED
# Evidence can be staged or submitted only while Stripe waits for it.
NEEDS_RESPONSE = frozenset({"needs_response", "warning_needs_response"})


DISPUTE_REASONS = {
    "fraudulent": "the cardholder says they did not make this payment",
    "product_not_received": "the buyer says the stub never arrived",
    "product_unacceptable": "the buyer says the stub was not as described",
    "duplicate": "the buyer says they were charged twice",
    "credit_not_processed": "the buyer says a promised refund was not made",
    "unrecognized": "the cardholder does not recognise the payment",
    "subscription_canceled": "the buyer says they cancelled",
    "general": "no specific reason given",
}


class Dispute(models.Model):
    """One Stripe dispute (chargeback or inquiry) on an order's payment, kept in line with
    Stripe by the `charge.dispute.*` webhooks, plus what staff and the seller add to answer it."""

    stripe_dispute_id = models.CharField(max_length=64, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="disputes")
    stripe_account_id = models.CharField(max_length=64)
    charge_id = models.CharField(max_length=64, blank=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    reason = models.CharField(max_length=40, blank=True)
    # The database does not enforce choices: a status Stripe adds later is kept as it comes.
    status = models.CharField(max_length=32, choices=DisputeStatus.choices, db_index=True)
    evidence_due_by = models.DateTimeField(null=True, blank=True, db_index=True)
    is_inquiry = models.BooleanField(default=False)
    # Stripe's `is_charge_refundable`: true during an inquiry, so a refund can still end it
    # before it becomes a chargeback; false once money was taken.
    charge_refundable = models.BooleanField(default=False)
    submission_count = models.PositiveSmallIntegerField(default=0)
    # The seller's side, from the order page; staff see it and send it with the evidence.
    seller_note = models.TextField(blank=True)
    seller_tracking_number = models.CharField(max_length=100, blank=True)
    seller_note_at = models.DateTimeField(null=True, blank=True)
    # The evidence as staff last saved it (Stripe's field names), also staged on Stripe.
    evidence_draft = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # won / lost / warning_closed / prevented, once Stripe closed it.
    outcome = models.CharField(max_length=32, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    stripe_created = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The latest first, so `order.disputes.first` is the one that matters; the admin list
        # sorts by the evidence deadline instead.
        db_table = "payments_dispute"
        ordering = ["-stripe_created", "-id"]
        # Checked by disputes.services.dispute_can_respond for every answer; given to the Support
        # and Finance groups (payments/staff.py).
        permissions = [("respond_dispute", "Can respond to disputes")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="dispute_amount_positive"),
        ]

    def __str__(self):
        return f"{self.kind_label} {self.stripe_dispute_id} on order #{self.order_id}"

    @property
    def kind_label(self) -> str:
        return "Inquiry" if self.is_inquiry else "Dispute"

    @property
    def amount_display(self) -> str:
        return format_usd(self.amount_cents)

    @property
    def reason_display(self) -> str:
        return DISPUTE_REASONS.get(self.reason, self.reason.replace("_", " ") or "no reason given")

    @property
    def is_open(self) -> bool:
        return self.status in (DisputeStatus.WARNING_NEEDS_RESPONSE, DisputeStatus.WARNING_UNDER_REVIEW,
                               DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW)

    @property
    def needs_response(self) -> bool:
        return (self.status in (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.WARNING_NEEDS_RESPONSE)
                and self.submitted_at is None and self.accepted_at is None)

    def days_left(self, now=None) -> int | None:
        """Whole days until the evidence is due (negative when past); None without a deadline."""
        if self.evidence_due_by is None:
            return None

        return (self.evidence_due_by - (now or timezone.now())).days

    @property
    def days_left_display(self) -> str:
        days = self.days_left()
        if days is None or not self.needs_response:
            return ""
        if days < 0:
            return "past due"
        return "due today" if days == 0 else f"{days} day{'s' if days != 1 else ''} left"

    @property
    def status_for_seller(self) -> str:
        """The status in plain words for the seller's pages."""
        if self.needs_response:
            if not self.seller_note_at:
                return "Waiting for your side"
            return "Your side is in; our team will answer the bank"
        return {
            DisputeStatus.WARNING_UNDER_REVIEW: "Answered; the bank is reviewing the inquiry",
            DisputeStatus.UNDER_REVIEW: "Answered; the bank is reviewing the evidence",
            DisputeStatus.WON: "Won: the money is back in your balance",
            DisputeStatus.LOST: ("Inquiry accepted: closed as lost, no money moved" if self.lost_without_money
                                 else "Accepted by our staff: the money went back to the buyer"
                                 if self.accepted_by_staff else "Lost: the money went back to the buyer"),
            DisputeStatus.WARNING_CLOSED: "Closed without a chargeback",
            DisputeStatus.PREVENTED: "Prevented before it became a chargeback: no dispute fee, nothing "
                                     "won back",
        }.get(self.status, self.get_status_display())

    @property
    def accept_consequence(self) -> str:
        """What "Accept" really does: Stripe closes the dispute as lost, for good
        (https://docs.stripe.com/api/disputes/close). An inquiry has taken no money, so accepting
        one gives the buyer nothing back and does not stop a chargeback; a refund does both."""
        if self.is_inquiry:
            return ("Accepting closes this inquiry as lost on Stripe, for good. No money moves: the buyer "
                    "gets nothing back, and their bank may still open a chargeback (the amount plus a "
                    "dispute fee). To give the buyer the money back and end it without a chargeback, "
                    "refund the order instead.")
        return (f"Accepting closes this dispute as lost on Stripe, for good: the {self.amount_display} "
                "Stripe took stays with the buyer and the dispute fee is not returned.")

    @property
    def lost_without_money(self) -> bool:
        """An inquiry closed as lost (accepted): Stripe had taken nothing, so nothing went back."""
        return self.outcome == DisputeStatus.LOST and self.is_inquiry

    @property
    def accepted_by_staff(self) -> bool:
        """Closed as lost because our staff accepted it, not because the bank decided."""
        return self.outcome == DisputeStatus.LOST and self.accepted_at is not None

    @property
    def outcome_headline(self) -> str:
        if self.lost_without_money:
            return "inquiry accepted, no money moved"
        if self.accepted_by_staff:
            return "our staff accepted it"
        return {"won": "you won", "lost": "you lost", "warning_closed": "closed without a chargeback",
                "prevented": "prevented before it became a chargeback (not won)"}.get(self.outcome,
                                                                                      self.outcome)

    @property
    def outcome_explanation(self) -> str:
        if self.lost_without_money:
            return ("The inquiry was accepted, which closes it as lost on Stripe. No money was taken and "
                    "none went back to the buyer; the buyer's bank may still open a chargeback.")
        if self.accepted_by_staff:
            return (f"Our staff accepted the dispute instead of contesting it, which closes it as lost: the "
                    f"{self.amount_display} went back to the buyer. The bank did not rule on it.")
        return {
            "won": f"The bank decided in your favour: the {self.amount_display} is back in your Stripe "
                   "balance.",
            "lost": f"The bank decided for the buyer: the {self.amount_display} went back to them. "
                    "Stripe's dispute fee is paid by Stub Collector, not by you.",
            "warning_closed": "The bank closed its inquiry without a chargeback; no money moved.",
            # Stripe's dispute prevention resolves (refunds) or blocks it before a chargeback: no
            # dispute fee, but nothing is won back either; a refund shows on the order as a refund.
            "prevented": "The dispute was stopped before it became a chargeback, so there is no dispute fee. "
                         "This is not a win: if it was stopped by refunding the buyer, that refund shows on "
                         "the order.",
        }.get(self.outcome, "")

    @property
    def outcome_for_buyer(self) -> str:
        """What the buyer sees on their order page once the dispute is closed."""
        return {
            "won": "Your bank decided the payment stands.",
            "lost": ("The inquiry is closed; your bank may still contact you." if self.lost_without_money
                     else "Your bank decided in your favour: the money went back to your card."),
            "warning_closed": "Your bank closed its inquiry; the payment stands.",
            "prevented": "Your bank's dispute was settled before it became a chargeback; any refund "
                         "shows on this order.",
        }.get(self.outcome, "")


class EvidenceFileKind(models.TextChoices):
    # Stripe's evidence fields that take a file (https://docs.stripe.com/api/disputes/update),
    # the ones a stub sale has.
    RECEIPT = "receipt", "Receipt"
    SHIPPING_DOCUMENTATION = "shipping_documentation", "Proof of shipping"
    CUSTOMER_COMMUNICATION = "customer_communication", "Messages with the buyer"
    UNCATEGORIZED_FILE = "uncategorized_file", "Other document"


class DisputeEvidenceFile(models.Model):
    """A document for a dispute's evidence, kept in the private `evidence` storage and uploaded
    from there to Stripe's Files API on the seller's account (purpose `dispute_evidence`), named
    in the evidence field of its kind when the evidence is saved or submitted (disputes/files.py).
    Stripe's evidence takes one file per field, so a newer file of a kind replaces the older one
    (`replaced_at`); both stay listed, and both files are kept."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="evidence_files")
    kind = models.CharField(max_length=40, choices=EvidenceFileKind.choices)
    stripe_file_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    file_type = models.CharField(max_length=8)  # Stripe's `type`: pdf, jpg or png
    sha256 = models.CharField(max_length=64)
    # The bytes sent to Stripe, kept private in the `evidence` storage (core/storage.py); blank for
    # files attached before the storage kept them.
    file = models.FileField(storage=evidence_storage, upload_to="disputes/", max_length=200, blank=True,
                            editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="dispute_evidence_files")
    created_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payments_disputeevidencefile"
        ordering = ["kind", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["dispute", "kind"], condition=Q(replaced_at__isnull=True),
                                    name="dispute_evidence_file_one_current_per_kind"),
            models.CheckConstraint(condition=Q(size__gt=0), name="dispute_evidence_file_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.name} ({self.stripe_file_id})"

    @property
    def size_display(self) -> str:
        return f"{self.size / (1024 * 1024):.1f} MB" if self.size >= 1024 * 1024 else \
            f"{max(1, round(self.size / 1024))} KB"
