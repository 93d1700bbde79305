"""Offers: a buyer's price for a listing whose seller takes offers, and the answers to it.

One row per offer. The seller answers a pending offer (accept, decline, counter); the buyer
answers a counter (accept, decline); each side has OFFER_RESPONSE_HOURS, after which the offer
expires (`expires_at`, the time the side whose turn it is must have answered). An accepted offer
holds the listing for the buyer at `agreed_cents` for the checkout's reservation window
(docs/architecture.md, "Offers").
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.models import MAX_PRICE_CENTS, MIN_PRICE_CENTS


class OfferStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the seller"
    COUNTERED = "countered", "Countered: waiting for the buyer"
    ACCEPTED = "accepted", "Accepted: waiting for the payment"
    PAID = "paid", "Paid"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn by the buyer"
    VOID = "void", "Void: the stub is no longer on sale"
    LAPSED = "lapsed", "Accepted, but not paid in time"


# Waiting for an answer: these count towards the buyer's OFFERS_MAX_OPEN_PER_BUYER.
OPEN_STATUSES = (OfferStatus.PENDING, OfferStatus.COUNTERED)


class Offer(models.Model):
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.PROTECT, related_name="offers")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers_made")
    # The listing's seller when the offer was made (a listing never changes hands).
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount_cents = models.PositiveIntegerField()  # the buyer's offer, for the stub without shipping
    counter_cents = models.PositiveIntegerField(null=True, blank=True)  # the seller's counter
    agreed_cents = models.PositiveIntegerField(null=True, blank=True)  # set when accepted
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.PENDING)
    # Below the seller's hidden minimum: declined when made, by nobody.
    declined_automatically = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The hold the acceptance made (the listing's `reserved_at` then): the agreed price applies
    # while the listing is still held by the buyer from that moment (offers.selectors.agreed_price).
    held_at = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(
        "payments.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "buyer"], condition=Q(status__in=OPEN_STATUSES),
                name="offers_one_open_per_listing",
            ),
            models.UniqueConstraint(
                fields=["listing"], condition=Q(status="accepted"), name="offers_one_accepted_per_listing"
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=MIN_PRICE_CENTS, amount_cents__lte=MAX_PRICE_CENTS),
                name="offers_amount_chargeable",
            ),
            models.CheckConstraint(
                condition=Q(counter_cents__isnull=True)
                | Q(counter_cents__gte=MIN_PRICE_CENTS, counter_cents__lte=MAX_PRICE_CENTS),
                name="offers_counter_chargeable",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(agreed_cents__isnull=False, held_at__isnull=False),
                name="offers_accepted_has_price_and_hold",
            ),
            models.CheckConstraint(condition=~Q(buyer=models.F("seller")), name="offers_two_parties"),
        ]
        indexes = [
            models.Index(fields=["buyer", "status"], name="offers_buyer_status_idx"),
            models.Index(fields=["seller", "status"], name="offers_seller_status_idx"),
            models.Index(fields=["status", "expires_at"], name="offers_status_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"Offer #{self.pk} on listing #{self.listing_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def on_the_table_cents(self) -> int:
        """The amount the party whose turn it is would accept: the counter once there is one."""
        if self.agreed_cents is not None:
            return self.agreed_cents
        return self.counter_cents if self.counter_cents is not None else self.amount_cents

    def turn_of(self) -> int | None:
        """The id of the user who answers next, or None when nobody does."""
        if self.status == OfferStatus.PENDING:
            return self.seller_id
        if self.status == OfferStatus.COUNTERED:
            return self.buyer_id
        return None
