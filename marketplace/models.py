from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import StripeAccountStatus

MIN_PRICE_CENTS = 50  # Stripe's USD minimum charge
MAX_PRICE_CENTS = 99_999_999  # Stripe's USD maximum charge
MAX_SHIPPING_CENTS = 10_000  # $100: postage for a stub; more is a price in disguise (docs/shipping.md)


class Category(models.TextChoices):
    CONCERT = "concert", "Concert"
    SPORTS = "sports", "Sports"
    THEATRE = "theatre", "Theatre"
    COMEDY = "comedy", "Comedy"
    FESTIVAL = "festival", "Festival"
    FILM = "film", "Film"
    OTHER = "other", "Other"


class Condition(models.TextChoices):
    MINT = "mint", "Mint"
    NEAR_MINT = "near_mint", "Near mint"
    EXCELLENT = "excellent", "Excellent"
    GOOD = "good", "Good"
    FAIR = "fair", "Fair"
    POOR = "poor", "Poor"


class PhotoState(models.TextChoices):
    """A photo is published once the photo task (marketplace.tasks) has re-encoded it; until
    then pages show a placeholder, and a failure is shown to the seller only."""

    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Could not be processed"


class Stub(models.Model):
    event_name = models.CharField(max_length=200)
    performer = models.CharField(max_length=200, blank=True)
    venue = models.CharField(max_length=200)
    city = models.CharField(max_length=120)
    event_date = models.DateField(db_index=True)
    category = models.CharField(max_length=16, choices=Category.choices, db_index=True)
    condition = models.CharField(max_length=16, choices=Condition.choices, default=Condition.GOOD)
    description = models.TextField(blank=True, max_length=5000)
    photo = models.ImageField(upload_to="stubs/%Y/%m/", blank=True)
    thumbnail = models.ImageField(upload_to="stubs/thumbs/%Y/%m/", blank=True)
    # The cover's state; while it is processing, `photo_upload` is the upload awaiting the task
    # (never shown) and `photo`/`thumbnail` are empty.
    photo_state = models.CharField(max_length=10, choices=PhotoState.choices, default=PhotoState.READY)
    photo_upload = models.FileField(upload_to="incoming/", blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Beat's sweep for photos whose task was lost reads the few processing ones every minute.
        indexes = [models.Index(fields=["id"], condition=Q(photo_state="processing"),
                                name="stub_photo_processing_idx")]

    def __str__(self):
        return f"{self.event_name} — {self.venue}, {self.event_date:%Y-%m-%d}"


class ListingStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RESERVED = "reserved", "Reserved (payment pending)"
    SOLD = "sold", "Sold"
    WITHDRAWN = "withdrawn", "Withdrawn"


def seller_can_accept_payments_q(prefix: str = "seller__") -> Q:
    """The query twin of `User.can_accept_payments` (keep the two in step)."""
    return Q(
        **{
            f"{prefix}is_seller": True,
            f"{prefix}stripe_onboarding_completed": True,
            f"{prefix}stripe_capabilities_enabled": True,
            f"{prefix}stripe_account_status": StripeAccountStatus.ENABLED,
        }
    ) & ~Q(**{f"{prefix}stripe_account_id": ""}) & Q(**{f"{prefix}stripe_requirements_past_due": []}) & Q(
        **{f"{prefix}stripe_disconnected_at__isnull": True, f"{prefix}stripe_balance_cents__gte": 0}
    )


class ListingQuerySet(models.QuerySet):
    def available_now(self, now=None):
        """Active, or reserved by someone whose reservation has lapsed: nobody holds it."""
        now = now or timezone.now()
        lapsed = Q(status=ListingStatus.RESERVED) & (
            Q(reserved_until__isnull=True) | Q(reserved_until__lte=now)
        )
        return self.filter(Q(status=ListingStatus.ACTIVE) | lapsed)

    def purchasable_now(self, now=None):
        """Available now and sold by someone whose Stripe account can take the payment."""
        # A subquery, not a join condition. Pages that sort and limit use
        # marketplace.selectors.listing_search instead: PostgreSQL misestimates this subquery
        # (1 row) and then sorts every listing of every payable seller (0.9 s at 100k listings).
        payable_sellers = get_user_model().objects.filter(seller_can_accept_payments_q(prefix=""))
        return self.available_now(now).filter(seller_id__in=payable_sellers.values("pk"))


class Listing(models.Model):
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="listings"
    )
    stub = models.ForeignKey(Stub, on_delete=models.PROTECT, related_name="listings")
    price_cents = models.PositiveIntegerField()
    # What the buyer pays on top of the price for postage (0: free shipping). Part of the
    # PaymentIntent amount; see docs/shipping.md for the fee policy.
    shipping_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd", editable=False)
    status = models.CharField(
        max_length=16, choices=ListingStatus.choices, default=ListingStatus.ACTIVE
    )
    reserved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reservations",
    )
    reserved_until = models.DateTimeField(null=True, blank=True)
    # When the current holder's hold began: it can be extended to twice its length, no more.
    reserved_at = models.DateTimeField(null=True, blank=True)
    payment_required = models.BooleanField(default=True)
    # Buyers may offer a price (the offers app); offers below the minimum are declined at once.
    # The minimum is the seller's secret: no page, email or API shows it to a buyer.
    offers_enabled = models.BooleanField(default=False)
    offer_minimum_cents = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ListingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(currency="usd"), name="listing_currency_usd"),
            models.CheckConstraint(
                condition=Q(price_cents__gte=MIN_PRICE_CENTS, price_cents__lte=MAX_PRICE_CENTS),
                name="listing_price_within_stripe_limits",
            ),
            models.CheckConstraint(
                condition=Q(shipping_cents__lte=MAX_SHIPPING_CENTS)
                & Q(price_cents__lte=MAX_PRICE_CENTS - models.F("shipping_cents")),
                name="listing_shipping_within_limits",
            ),
            models.CheckConstraint(
                condition=Q(offer_minimum_cents__isnull=True) | Q(offer_minimum_cents__gte=MIN_PRICE_CENTS),
                name="listing_offer_minimum_chargeable",
            ),
            models.CheckConstraint(
                condition=Q(reserved_by__isnull=True, reserved_until__isnull=True)
                | Q(reserved_by__isnull=False, reserved_until__isnull=False),
                name="listing_reservation_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="listing_status_newest_idx"),
            models.Index(fields=["status", "price_cents"], name="listing_status_price_idx"),
            # Price sorts walk this one (the status filter covers two values, so the one above
            # cannot give the order by itself).
            models.Index(fields=["price_cents", "id"], name="listing_price_idx"),
            models.Index(fields=["seller", "status"], name="listing_seller_status_idx"),
            models.Index(fields=["reserved_until"], name="listing_reserved_until_idx"),
            # Partial indexes over what can be on sale (active, or reserved with a hold that may
            # have lapsed), in each browse order: the first page and every keyset page walk one
            # of them and stop after 25 rows, skipping the sold and withdrawn listings that pile
            # up over time. PostgreSQL proves available_now()'s OR implies the condition.
            models.Index(fields=["-created_at", "-id"], name="listing_onsale_newest_idx",
                         condition=Q(status__in=["active", "reserved"])),
            models.Index(fields=["price_cents", "id"], name="listing_onsale_price_idx",
                         condition=Q(status__in=["active", "reserved"])),
            models.Index(fields=["seller", "-created_at", "-id"], name="listing_seller_onsale_idx",
                         condition=Q(status__in=["active", "reserved"])),
        ]

    def __str__(self):
        return f"#{self.pk} {self.stub.event_name} (${self.price_cents / 100:.2f})"

    @property
    def price_dollars(self) -> str:
        return f"{self.price_cents / 100:,.2f}"

    @property
    def total_cents(self) -> int:
        """What a buyer pays: the price plus shipping (the PaymentIntent amount)."""
        return self.price_cents + self.shipping_cents

    def effective_status(self, now=None) -> str:
        """The status as buyers see it: a lapsed reservation is simply active again."""
        if self.status == ListingStatus.RESERVED and not self.reservation_is_live(now):
            return ListingStatus.ACTIVE
        return self.status

    def get_effective_status_display(self) -> str:
        return ListingStatus(self.effective_status()).label

    def reservation_is_live(self, now=None) -> bool:
        """Held by a buyer right now (a reservation past `reserved_until` has lapsed)."""
        now = now or timezone.now()
        return (
            self.status == ListingStatus.RESERVED
            and self.reserved_until is not None
            and self.reserved_until > now
        )


MAX_STUB_PHOTOS = 6


class StubPhoto(models.Model):
    """One of up to MAX_STUB_PHOTOS photos of a stub (front, back, details), in the seller's
    order. The first one is also `Stub.photo`/`Stub.thumbnail` (the cover the cards show), so
    browse pages read no extra rows. The thumbnail is made once, at upload."""

    stub = models.ForeignKey(Stub, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="stubs/%Y/%m/", blank=True)
    thumbnail = models.ImageField(upload_to="stubs/thumbs/%Y/%m/", blank=True)
    state = models.CharField(max_length=10, choices=PhotoState.choices, default=PhotoState.READY)
    upload = models.FileField(upload_to="incoming/", blank=True, editable=False)  # as Stub.photo_upload
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["stub", "position"], name="stubphoto_stub_position_idx"),
            models.Index(fields=["id"], condition=Q(state="processing"), name="stubphoto_processing_idx"),
        ]

    def __str__(self):
        return f"Photo {self.position + 1} of stub #{self.stub_id}"


class Watch(models.Model):
    """A buyer watches a listing (the heart): told by email when its price drops, or when
    someone starts paying for it. `price_seen_cents` is the lowest price the watcher was told
    of (or saw when watching began): only a drop below it is news, and at most one such email
    goes out per WATCH_PRICE_DROP_EMAIL_HOURS (`price_drop_emailed_at`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="watches")
    price_seen_cents = models.PositiveIntegerField()
    price_drop_emailed_at = models.DateTimeField(null=True, blank=True)
    # The end of the reservation we last warned about, so one checkout gives one email.
    reservation_alerted_until = models.DateTimeField(null=True, blank=True)
    emails_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "listing"], name="watch_once_per_user_listing"),
        ]
        indexes = [models.Index(fields=["listing", "user"], name="watch_listing_user_idx")]

    def __str__(self):
        return f"{self.user_id} watches listing #{self.listing_id}"


class SavedSearch(models.Model):
    """A browse query a buyer saved; a daily email lists the listings new since the last one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(max_length=120)
    query = models.CharField(max_length=1000, blank=True)  # the browse query string, normalised
    emails_enabled = models.BooleanField(default=True)
    # Listings created after this are "new" for the next digest.
    checked_until = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "query"], name="saved_search_once_per_query"),
        ]

    def __str__(self):
        return f"{self.name} ({self.user_id})"
