from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.functional import cached_property

from marketplace.models import MAX_PRICE_CENTS, MIN_PRICE_CENTS, Category, Condition
from marketplace.pricing import application_fee_cents, format_usd
from payments.shipping import ShippingCarrier, tracking_url


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
# Statuses a refund can be waiting on; a disputed order keeps saying it is disputed.
REFUND_PENDING_SHOWN_FOR = (
    OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED,
)

# Statuses only an order whose payment went through can reach.
PAID_ORDER_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.REFUNDED,
    OrderStatus.PARTIALLY_REFUNDED,
    OrderStatus.DISPUTED,
    OrderStatus.DISPUTE_LOST,
)

# Orders whose money we hold and which can still be refunded or disputed: paid, and neither
# refunded in full nor in a dispute.
REFUNDABLE_ORDER_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_REFUNDED,
)

# Orders that are a sale: paid for and not given back (refunded, or lost in a dispute). An open
# dispute still counts: the seller has the money until it is lost.
SOLD_ORDER_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_REFUNDED,
    OrderStatus.DISPUTED,
)

# The tone of each status's badge wherever an order's status is shown (order pages and lists,
# the dashboard, admin). A status not here (cancelled, refunded) has a neutral badge; a refund
# still pending at Stripe makes any badge "warn" (Order.badge_tone).
ORDER_STATUS_BADGES = {
    OrderStatus.PAID: "ok",
    OrderStatus.SHIPPED: "ok",
    OrderStatus.COMPLETED: "ok",
    OrderStatus.PENDING_PAYMENT: "warn",
    OrderStatus.PARTIALLY_REFUNDED: "warn",
    OrderStatus.DISPUTED: "bad",
    OrderStatus.DISPUTE_LOST: "bad",
    OrderStatus.PAYMENT_FAILED: "bad",
}


class OrderQuerySet(models.QuerySet):
    def placed(self) -> "OrderQuerySet":
        """Orders as the buyer and the seller know them: the buyer's money was taken at some
        point (paid, or refunded since). Checkouts that never took money (abandoned, declined,
        failed 3-D Secure, a lapsed hold) are left out; staff see every row in admin. The one
        rule for the buyer's orders, the seller's sales, the JSON my-orders and the sales chart;
        `Order.was_placed` says the same of one order."""
        return self.filter(
            Q(paid_at__isnull=False) | Q(status__in=PAID_ORDER_STATUSES) | Q(payment__isnull=False)
        )


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
    # The carrier the seller shipped with (dispute evidence reads it with the number),
    # and the listing's shipping charge at checkout, a part of amount_cents (docs/shipping.md).
    shipping_carrier = models.CharField(max_length=16, choices=ShippingCarrier.choices, blank=True)
    shipping_cents = models.PositiveIntegerField(default=0)
    # Set when something needs a person (a refund failed after the stub was sold again);
    # cleared by staff. Shown as a filter in admin.
    attention_reason = models.CharField(max_length=300, blank=True)
    # Tries that failed (a declined card, a failed 3-D Secure) while the buyer's hold lasted:
    # the order stays open for another card on the same PaymentIntent, and each try is also an
    # audit row (payments.services.payment_events).
    payment_failures = models.PositiveSmallIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # Checked by payments.services.refunds.refund_permission_check for every refund path;
        # given to the Support and Finance groups by a data migration. (Answering a dispute is
        # disputes.respond_dispute, on the Dispute model.)
        permissions = [
            ("refund_order", "Can refund orders up to the support limit"),
            ("refund_order_any_amount", "Can refund orders of any amount"),
        ]
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
            models.CheckConstraint(
                condition=Q(shipping_cents__lt=models.F("amount_cents")),
                name="order_shipping_below_amount",
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
    def tracking_url(self) -> str:
        """The carrier's tracking page for this parcel ("" for "other" or no number)."""
        return tracking_url(carrier=self.shipping_carrier, tracking_number=self.tracking_number)

    @property
    def was_placed(self) -> bool:
        """OrderQuerySet.placed() for one order: did the buyer's money go through?"""
        if self.paid_at is not None or self.status in PAID_ORDER_STATUSES:
            return True
        try:
            return self.payment is not None  # read with the order when select_related
        except ObjectDoesNotExist:
            return False

    @cached_property
    def refund_waiting(self) -> bool:
        """Whether a refund of this order is not finished at Stripe (pending, requires_action).
        Lists annotate `refunds_waiting` (payments.selectors.orders.with_refund_waiting) instead of a
        query per row."""
        annotated = self.__dict__.get("refunds_waiting")
        if annotated is not None:
            return bool(annotated)
        return self.refunds.filter(status__in=REFUND_WAITING_STATUSES).exists()

    @property
    def shows_refund_pending(self) -> bool:
        # The status counts a pending refund as promised money (refunded / partially refunded):
        # until Stripe says succeeded, every page says "Refund pending" instead.
        return self.status in REFUND_PENDING_SHOWN_FOR and self.refund_waiting

    @property
    def status_label(self) -> str:
        """The status as the order pages, lists, dashboard and admin say it."""
        return "Refund pending" if self.shows_refund_pending else self.get_status_display()

    @property
    def badge_tone(self) -> str:
        """The status badge's tone: "ok", "warn", "bad", or "" for a neutral status
        (ORDER_STATUS_BADGES)."""
        return "warn" if self.shows_refund_pending else ORDER_STATUS_BADGES.get(self.status, "")

    @property
    def badge(self) -> str:
        """The status badge's CSS class on the order pages, lists and dashboard ("" when neutral)."""
        tone = self.badge_tone
        return f"badge-{tone}" if tone else ""

    @property
    def seller_receives_cents(self) -> int:
        """The amount less the platform fee: Stripe's processing fee is the platform's
        (controller.fees.payer=application, docs/going-live.md)."""
        return self.amount_cents - self.application_fee_cents


class OrderSnapshot(models.Model):
    """What the buyer paid for, frozen when the payment succeeded (payments.services.snapshots):
    the stub's facts, its price and shipping, and copies of its photos in files the order owns.
    The order page and the dispute evidence read this, never the live stub, which the seller
    can change again once it is back on sale."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, primary_key=True, related_name="snapshot")
    event_name = models.CharField(max_length=200)
    performer = models.CharField(max_length=200, blank=True)
    venue = models.CharField(max_length=200)
    city = models.CharField(max_length=120)
    event_date = models.DateField()
    category = models.CharField(max_length=16, choices=Category.choices)
    condition = models.CharField(max_length=16, choices=Condition.choices)
    description = models.TextField(blank=True)
    price_cents = models.PositiveIntegerField()
    shipping_cents = models.PositiveIntegerField(default=0)
    # [{"image": name, "thumbnail": name}] in the seller's order, names in the default storage
    # under orders/<order id>/ (copies: deleting or replacing the stub's photos leaves them).
    photos = models.JSONField(default=list, blank=True)
    taken_at = models.DateTimeField()
    # Filled by migration 0010 from the stub as it was then, for orders paid before snapshots
    # existed: the seller may have edited the stub after the sale.
    backfilled = models.BooleanField(default=False)
    # True while the order is COMPLETED: a sale of the sold-price history. Kept in step with the
    # order's status by payments.services.orders.order_transition, under the order's row lock in
    # the same transaction, so the history reads the snapshots alone.
    completed_sale = models.BooleanField(default=False)

    class Meta:
        # The sold-price history's two rules of comparable stubs (payments.selectors.sold_prices):
        # same performer and year, or same event; matched without regard to case. Partial (only
        # the completed sales) and covering (the price, order id and payment time the figures
        # rank by), so a group's sales come from an index-only scan: no snapshot or order row
        # is read. PostgreSQL plans an index-only scan of lower(x) only when x itself is in the
        # index too, hence the performer and event name at the end (key columns, not INCLUDE,
        # which SQLite lacks and warns of).
        indexes = [
            models.Index(
                Lower("performer"), F("event_date"), F("price_cents"), F("order_id"), F("taken_at"),
                F("performer"), condition=Q(completed_sale=True), name="snapshot_sold_performer_idx",
            ),
            models.Index(
                Lower("event_name"), F("event_date"), F("price_cents"), F("order_id"), F("taken_at"),
                F("event_name"), condition=Q(completed_sale=True), name="snapshot_sold_event_idx",
            ),
        ]

    def __str__(self):
        return f"Snapshot of order #{self.order_id}"

    @property
    def gallery(self) -> list[dict]:
        """[{"image": url, "thumbnail": url}] for the order pages and admin."""
        return [{key: default_storage.url(photo[key]) for key in ("image", "thumbnail")}
                for photo in self.photos]


class SoldPriceSummary(models.Model):
    """The sold-price history of one comparable group (payments.selectors.sold_prices), counted
    from its completed snapshots whenever a sale in it completes or stops being completed
    (payments.services.sold_prices, under the order's lock), so a page reads a row per group
    instead of ranking every sale of it. No buyer, order or time of day: prices and payment
    times only (the day is taken in the site's time zone when read)."""

    # ComparableGroup.summary_key: "performer:<year>:<performer>" or "event:<date>:<event name>",
    # lowered as the group is.
    key = models.CharField(max_length=240, primary_key=True)
    sales = models.PositiveIntegerField(default=0)
    lowest_cents = models.PositiveIntegerField(null=True)
    median_cents = models.PositiveIntegerField(null=True)
    highest_cents = models.PositiveIntegerField(null=True)
    # [[payment time (ISO 8601), price in cents], ...], newest first, at most RECENT_SALES.
    recent = models.JSONField(default=list)
    counted_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Sold prices of {self.key}"


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
        return application_fee_cents(self.amount_cents)

    @property
    def fee_matches_policy(self) -> bool:
        return self.application_fee_cents == self.policy_fee_cents

    @property
    def seller_net_cents(self) -> int:
        """What the seller keeps: the amount not refunded, less the platform fee the platform
        kept (Stripe's processing fee is the platform's, docs/going-live.md)."""
        return self.amount_cents - self.amount_refunded_cents - self.net_platform_amount_cents

    @property
    def liability_status(self) -> dict:
        """Who carries what for this payment.

        A direct charge lives on the seller's Stripe account, so that account carries refunds
        and disputed amounts (the platform only returns its fee); Stripe's processing and
        dispute fees are taken from the platform (controller.fees.payer=application,
        docs/going-live.md). A card authenticated with 3-D Secure moves fraud-chargeback
        liability to the card issuer.
        """
        return {
            "charge_type": "direct charge",
            "stripe_account": self.stripe_account_id,
            "fees_refunds_disputes": (f"refunds and disputed amounts: seller's Stripe account "
                                      f"({self.stripe_account_id}); Stripe's fees and dispute "
                                      "fees: the platform"),
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


class RefundStatus(models.TextChoices):
    # Stripe's refund statuses. A row is `pending` from the moment it is created (before Stripe
    # is asked) until Stripe says otherwise.
    PENDING = "pending", "Pending"
    REQUIRES_ACTION = "requires_action", "Requires action"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


# Refunds that hand money back (or may still): they count towards the refunded total.
REFUND_COUNTING_STATUSES = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED)
REFUND_FINAL_STATUSES = (RefundStatus.FAILED, RefundStatus.CANCELED)


class RefundReason(models.TextChoices):
    # Stripe's list (https://docs.stripe.com/api/refunds/create#create_refund-reason), in words.
    REQUESTED_BY_CUSTOMER = "requested_by_customer", "Requested by the buyer"
    DUPLICATE = "duplicate", "Duplicate payment"
    FRAUDULENT = "fraudulent", "Fraudulent payment"


class MarketplaceRefundReason(models.TextChoices):
    # Why a stub's money goes back, in the marketplace's terms; Stripe is sent the nearest of
    # its own reasons (payments.services.refunds.STRIPE_REASON_FOR).
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    NOT_RECEIVED = "not_received", "Not received"
    DAMAGED = "damaged", "Damaged"
    CANCELLED_BY_SELLER = "cancelled_by_seller", "Cancelled by the seller"
    OTHER = "other", "Other"


# A refund Stripe has not finished: the order shows "Refund pending", never "Refunded".
REFUND_WAITING_STATUSES = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION)


def refund_reason_words(*, reason: str, marketplace_reason: str) -> str:
    """The reason as people read it: the marketplace's when there is one, else Stripe's."""
    if marketplace_reason in MarketplaceRefundReason.values:
        return MarketplaceRefundReason(marketplace_reason).label
    if reason in RefundReason.values:
        return RefundReason(reason).label
    return ""


class Refund(models.Model):
    """One refund of an order's payment, created (under the order's lock) before Stripe is asked.

    Its Stripe idempotency key is the row's id plus `attempt`, which moves on only when Stripe
    answered 5xx or timed out *and* the charge's refunds show none carrying this row's id in
    metadata: a retry can neither replay a stored 5xx nor refund twice.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    stripe_refund_id = models.CharField(max_length=64, blank=True, default="")
    amount_cents = models.PositiveIntegerField()
    # What the platform fee gave back for this refund, as Stripe reported it (0 until known).
    fee_refunded_cents = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=32, choices=RefundReason.choices, blank=True)
    marketplace_reason = models.CharField(max_length=32, choices=MarketplaceRefundReason.choices, blank=True)
    note = models.TextField(blank=True, help_text="Internal note for staff; never sent to Stripe.")
    buyer_note = models.TextField(blank=True, help_text="Note to the buyer, in their refund emails.")
    status = models.CharField(max_length=24, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    failure_reason = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="refunds_requested",
    )
    # A form's one-time token or a JSON client's Idempotency-Key: the same one is the same refund.
    request_token = models.CharField(max_length=64, blank=True, default="")
    # Made by Support within its limits: what Support's per-order and per-agent daily totals
    # count (payments.services.refunds.refund_support_blocker). Not a seller's or Finance's.
    by_support = models.BooleanField(default=False)
    attempt = models.PositiveSmallIntegerField(default=1)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive"),
            models.UniqueConstraint(
                fields=["stripe_refund_id"], condition=~Q(stripe_refund_id=""),
                name="refund_unique_stripe_id",
            ),
            models.UniqueConstraint(
                fields=["order", "requested_by", "request_token"], condition=~Q(request_token=""),
                name="refund_unique_request_token",
            ),
        ]

    def __str__(self):
        amount = format_usd(self.amount_cents)
        return f"Refund of {amount} on order #{self.order_id} ({self.get_status_display()})"

    @property
    def counts(self) -> bool:
        return self.status in REFUND_COUNTING_STATUSES

    @property
    def reason_words(self) -> str:
        return refund_reason_words(reason=self.reason, marketplace_reason=self.marketplace_reason)

    @property
    def sent(self) -> bool:
        return bool(self.stripe_refund_id)


class RefundApprovalStatus(models.TextChoices):
    OPEN = "open", "Waiting for Finance"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


class RefundApproval(models.Model):
    """A refund Support asked for above its limits: a to-do for Finance, who approves it (the
    same refund service then refunds it, as Finance) or declines it. Nothing is sent before."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refund_approvals")
    amount_cents = models.PositiveIntegerField()
    reason = models.CharField(max_length=32, choices=RefundReason.choices, blank=True)
    marketplace_reason = models.CharField(max_length=32, choices=MarketplaceRefundReason.choices, blank=True)
    note = models.TextField(blank=True, help_text="Internal note for staff; never sent to Stripe.")
    buyer_note = models.TextField(blank=True, help_text="Note to the buyer, in their refund emails.")
    why = models.CharField(max_length=300, help_text="Which of Support's limits it is above.")
    status = models.CharField(
        max_length=16, choices=RefundApprovalStatus.choices, default=RefundApprovalStatus.OPEN
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="refund_approvals_asked",
    )
    request_token = models.CharField(max_length=64, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="refund_approvals_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="approval"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_approval_amount_positive"),
            models.UniqueConstraint(
                fields=["order", "requested_by", "request_token"], condition=~Q(request_token=""),
                name="refund_approval_unique_request_token",
            ),
        ]

    def __str__(self):
        amount = format_usd(self.amount_cents)
        return f"Refund of {amount} on order #{self.order_id} ({self.get_status_display()})"

    @property
    def reason_words(self) -> str:
        return refund_reason_words(reason=self.reason, marketplace_reason=self.marketplace_reason)


class EarlyFraudWarning(models.Model):
    """Stripe Radar's early fraud warning on an order's charge: the card's bank reported the
    payment as fraud, and a chargeback (with its fee) usually follows. Refunding in full first
    avoids both, so staff see the open ones as a to-do (payments/admin/fraud.py).
    https://docs.stripe.com/api/radar/early_fraud_warnings/object"""

    stripe_warning_id = models.CharField(max_length=64, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="fraud_warnings")
    stripe_account_id = models.CharField(max_length=64)
    charge_id = models.CharField(max_length=64, blank=True)
    fraud_type = models.CharField(max_length=40, blank=True)
    # Stripe's `actionable`: no dispute yet and not fully refunded, so a refund still helps.
    actionable = models.BooleanField(default=True)
    stripe_created = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-stripe_created", "-id"]

    def __str__(self):
        return f"Early fraud warning {self.stripe_warning_id} on order #{self.order_id}"

    @property
    def fraud_type_display(self) -> str:
        return FRAUD_TYPES.get(self.fraud_type, self.fraud_type.replace("_", " ") or "not given")


# Stripe's fraud types (https://docs.stripe.com/api/radar/early_fraud_warnings/object), in words.
FRAUD_TYPES = {
    "card_never_received": "the card never reached its owner",
    "fraudulent_card_application": "the card was opened fraudulently",
    "made_with_counterfeit_card": "a counterfeit card was used",
    "made_with_lost_card": "a lost card was used",
    "made_with_stolen_card": "a stolen card was used",
    "misc": "fraud (no detail given)",
    "unauthorized_use_of_card": "the cardholder did not authorise it",
}
