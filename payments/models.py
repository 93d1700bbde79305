from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.models import MAX_PRICE_CENTS, MIN_PRICE_CENTS


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Awaiting payment"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    COMPLETED = "completed", "Completed"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    DISPUTED = "disputed", "Disputed"
    DISPUTE_LOST = "dispute_lost", "Dispute lost"


# An order that holds its listing: at most one per listing (see Order.Meta.constraints).
LIVE_ORDER_STATUSES = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)


class Order(models.Model):
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales")
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.PROTECT, related_name="orders")
    amount_cents = models.PositiveIntegerField()
    application_fee_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=24, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    # The status before a dispute opened, to return to when the dispute is won.
    status_before_dispute = models.CharField(max_length=24, choices=OrderStatus.choices, blank=True)
    stripe_account_id = models.CharField(max_length=64)
    payment_intent_id = models.CharField(max_length=64, blank=True, default="")
    reserved_until = models.DateTimeField(null=True, blank=True)

    shipping_name = models.CharField(max_length=200)
    shipping_line1 = models.CharField(max_length=200)
    shipping_line2 = models.CharField(max_length=200, blank=True)
    shipping_city = models.CharField(max_length=120)
    shipping_state = models.CharField(max_length=120, blank=True)
    shipping_postal_code = models.CharField(max_length=20)
    shipping_country = models.CharField(max_length=2, default="US")
    tracking_number = models.CharField(max_length=100, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing"],
                condition=Q(status__in=LIVE_ORDER_STATUSES),
                name="order_one_live_order_per_listing",
            ),
            models.UniqueConstraint(
                fields=["payment_intent_id"],
                condition=~Q(payment_intent_id=""),
                name="order_unique_payment_intent",
            ),
            models.CheckConstraint(condition=Q(currency="usd"), name="order_currency_usd"),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=MIN_PRICE_CENTS, amount_cents__lte=MAX_PRICE_CENTS),
                name="order_amount_within_stripe_limits",
            ),
            models.CheckConstraint(
                condition=Q(application_fee_cents__lte=models.F("amount_cents")),
                name="order_fee_not_above_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["buyer", "-created_at"], name="order_buyer_idx"),
            models.Index(fields=["seller", "-created_at"], name="order_seller_idx"),
            models.Index(fields=["status", "reserved_until"], name="order_status_reserved_idx"),
        ]

    def __str__(self):
        return f"Order #{self.pk} ({self.get_status_display()})"

    @property
    def seller_receives_cents(self) -> int:
        """Before Stripe's own processing fee, which the seller's account pays."""
        return self.amount_cents - self.application_fee_cents


class PaymentStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    DISPUTED = "disputed", "Disputed"
    DISPUTE_LOST = "dispute_lost", "Dispute lost"


class Payment(models.Model):
    """The direct charge on the seller's Stripe account for one order."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="payment")
    stripe_account_id = models.CharField(max_length=64)
    payment_intent_id = models.CharField(max_length=64, unique=True)
    charge_id = models.CharField(max_length=64, blank=True, db_index=True)
    amount_cents = models.PositiveIntegerField()
    application_fee_cents = models.PositiveIntegerField()
    amount_refunded_cents = models.PositiveIntegerField(default=0)
    fee_refunded_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=24, choices=PaymentStatus.choices)
    stripe_status = models.CharField(max_length=32, blank=True)
    three_d_secure_authenticated = models.BooleanField(default=False)
    dispute_id = models.CharField(max_length=64, blank=True)
    dispute_status = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded_cents__lte=models.F("amount_cents")),
                name="payment_refund_not_above_amount",
            ),
            models.CheckConstraint(
                condition=Q(fee_refunded_cents__lte=models.F("application_fee_cents")),
                name="payment_fee_refund_not_above_fee",
            ),
            models.CheckConstraint(
                condition=Q(application_fee_cents__lte=models.F("amount_cents")),
                name="payment_fee_not_above_amount",
            ),
        ]

    def __str__(self):
        return f"{self.payment_intent_id} on {self.stripe_account_id}"

    @property
    def net_platform_amount_cents(self) -> int:
        return self.application_fee_cents - self.fee_refunded_cents

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.amount_refunded_cents

    # -- payment figures (admin, dashboard) --

    @property
    def policy_fee_cents(self) -> int:
        """The fee our pricing rule gives for this amount (what checkout should have charged)."""
        from marketplace.pricing import platform_fee_cents

        return platform_fee_cents(self.amount_cents)

    @property
    def fee_matches_policy(self) -> bool:
        return self.application_fee_cents == self.policy_fee_cents

    @property
    def seller_net_cents(self) -> int:
        """What the seller keeps before Stripe's processing fee: the amount not refunded, less
        the platform fee the platform kept."""
        return self.amount_cents - self.amount_refunded_cents - self.net_platform_amount_cents

    @property
    def liability_status(self) -> dict:
        """Who carries what for this payment.

        A direct charge lives on the seller's Stripe account, so that account pays Stripe's
        fees and carries refunds and disputes (the platform only returns its fee). A card
        authenticated with 3-D Secure moves fraud-chargeback liability to the card issuer.
        """
        return {
            "charge_type": "direct charge",
            "stripe_account": self.stripe_account_id,
            "fees_refunds_disputes": f"seller's Stripe account ({self.stripe_account_id})",
            "fraud_liability": (
                "card issuer (3-D Secure)" if self.three_d_secure_authenticated
                else "seller's Stripe account (no 3-D Secure)"
            ),
        }


class AuditEvent(models.Model):
    """Who did what, when, and from which request or Stripe event. Never updated."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    action = models.CharField(max_length=64, db_index=True)
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="audit_trail",
    )
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    stripe_event_id = models.CharField(max_length=64, blank=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"
