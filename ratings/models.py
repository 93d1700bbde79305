"""Ratings: the buyer's feedback on an order, the seller's answer, and each seller's summed-up
rating. Moved out of payments with their tables, indexes and constraints unchanged (payments
migration 0015 and ratings 0001 move them in the migration state only)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from payments.models import Order


class FeedbackExclusion(models.TextChoices):
    REFUNDED = "refunded", "Order refunded in full"
    DISPUTE_LOST = "dispute_lost", "Dispute lost"


class Feedback(models.Model):
    """The buyer's rating (1–5) of the seller for one order, and the seller's one answer.

    One per order (the OneToOne), only by the order's buyer about its seller, and only for a
    completed order (not refunded, disputed or unpaid). The database keeps that last rule itself:
    a trigger refuses the row otherwise (ratings.db, installed by migration and after every
    migrate), so no code path, admin form or shell can write feedback for an order that does not
    allow it. The table keeps the name it had when feedback lived in payments.
    """

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="feedback")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_given"
    )
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_received"
    )
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(max_length=1000, blank=True)
    reply = models.TextField(max_length=1000, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    # Staff hide abusive feedback (audited as feedback.hidden / feedback.shown); it then counts
    # in no average and shows nowhere.
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    # A rating whose order was refunded in full or lost in a dispute is kept for staff but counts
    # in no average and shows nowhere public (ratings.services.feedback_follow_order).
    excluded_reason = models.CharField(max_length=16, choices=FeedbackExclusion.choices, blank=True)
    excluded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_feedback"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"),
            models.CheckConstraint(
                condition=Q(reply="", replied_at__isnull=True) | (~Q(reply="") & Q(replied_at__isnull=False)),
                name="feedback_reply_has_time",
            ),
            models.CheckConstraint(condition=~Q(buyer=models.F("seller")), name="feedback_not_about_oneself"),
        ]
        indexes = [models.Index(fields=["seller", "hidden", "-created_at"], name="feedback_seller_idx")]

    def __str__(self):
        return f"{self.rating}/5 for order #{self.order_id}"


class SellerRating(models.Model):
    """A seller's visible feedback summed up (kept by ratings.services), so browse can
    sort and filter by rating with one join instead of an aggregate per listing."""

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="rating_summary"
    )
    count = models.PositiveIntegerField(default=0)
    average = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "payments_sellerrating"
        indexes = [models.Index(fields=["average", "count"], name="sellerrating_average_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(count=0, average=0) | Q(count__gt=0, average__gte=1, average__lte=5),
                name="sellerrating_average_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.average} from {self.count}"
