"""A reconciliation run, where it stopped reading Stripe's lists, and what it found.

Nothing here changes an order: a difference is a report, and a fix is a staff action
(reconciliation/services/fixes.py) that goes through the payments and disputes services.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    # Stripe stopped answering part-way: the next run with the same --since and --account
    # continues from the cursors below.
    INTERRUPTED = "interrupted", "Interrupted (resumable)"


class ReconciliationRun(models.Model):
    since = models.DateTimeField(help_text="Objects created at Stripe from this time on.")
    until = models.DateTimeField(help_text="…and before this one (when the run began).")
    account = models.CharField(
        max_length=64,
        blank=True,
        help_text="One seller's acct_…, or empty for the platform and every seller.",
    )
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_by = models.CharField(max_length=150, help_text="The command, beat, or the staff member.")
    error = models.CharField(max_length=500, blank=True)
    pages_read = models.PositiveIntegerField(default=0)
    objects_read = models.PositiveIntegerField(default=0)
    skipped_accounts = models.JSONField(
        default=list, blank=True, help_text="Connected accounts Stripe no longer lets us read."
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = "reconciliation run"

    def __str__(self):
        return f"Reconciliation #{self.pk} ({self.get_status_display()})"


class RunCursor(models.Model):
    """How far one run has read one list of one account: the `created` window it is in and the
    last object of the last page read in it (`starting_after`), so an interrupted run resumes
    there instead of starting again."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="cursors")
    account = models.CharField(max_length=64, blank=True)  # "" is the platform
    kind = models.CharField(max_length=32)
    window_start = models.DateTimeField()
    starting_after = models.CharField(max_length=64, blank=True)
    done = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "account", "kind"], name="reconciliation_one_cursor_per_list"
            ),
        ]

    def __str__(self):
        return f"{self.account or 'platform'} {self.kind} from {self.window_start:%Y-%m-%d}"


class DifferenceKind(models.TextChoices):
    STRIPE_ONLY_PAYMENT = "stripe_only_payment", "Money at Stripe with no order here"
    PAYMENT_MISSED = "payment_missed", "Paid at Stripe, not paid here (a missed event)"
    LOCAL_ONLY_PAYMENT = "local_only_payment", "Paid here, not at Stripe"
    AMOUNT_DIFFERS = "amount_differs", "Amount differs"
    CURRENCY_DIFFERS = "currency_differs", "Currency differs"
    FEE_DIFFERS = "fee_differs", "Platform fee differs"
    FEE_NOT_RECEIVED = "fee_not_received", "Platform fee not received"
    FEE_NOT_RETURNED = "fee_not_returned", "Platform fee not given back"
    REFUND_STRIPE_ONLY = "refund_stripe_only", "Refund at Stripe only"
    REFUND_LOCAL_ONLY = "refund_local_only", "Refund here only"
    REFUND_STATE = "refund_state", "Refund in another state"
    DISPUTE_STRIPE_ONLY = "dispute_stripe_only", "Dispute at Stripe only"
    DISPUTE_LOCAL_ONLY = "dispute_local_only", "Dispute here only"
    DISPUTE_STATE = "dispute_state", "Dispute in another state"


class Fix(models.TextChoices):
    NONE = "", "None (a person looks into it)"
    APPLY_EVENT = "apply_event", "Apply the missed event"
    ADOPT_REFUND = "adopt_refund", "Adopt the refund made in Stripe's dashboard"


class Difference(models.Model):
    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="differences")
    kind = models.CharField(max_length=32, choices=DifferenceKind.choices, db_index=True)
    stripe_account = models.CharField(max_length=64, blank=True)
    stripe_object_id = models.CharField(max_length=64)
    stripe_created = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(
        "payments.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reconciliation_differences",
    )
    message = models.CharField(max_length=500)
    ours = models.JSONField(default=dict, blank=True, help_text="What our rows say.")
    stripe = models.JSONField(default=dict, blank=True, help_text="What Stripe says.")
    fix = models.CharField(max_length=16, choices=Fix.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "kind", "pk"]
        constraints = [
            # A resumed run reads a page again: the same finding is stored once.
            models.UniqueConstraint(
                fields=["run", "kind", "stripe_object_id"], name="reconciliation_one_difference_per_object"
            ),
        ]
        indexes = [
            models.Index(fields=["run"], condition=Q(resolved_at__isnull=True), name="recon_open_by_run")
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.stripe_object_id}"
