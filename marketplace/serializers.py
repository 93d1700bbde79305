"""JSON shapes of the marketplace API. Listings carry their payment status for the caller."""

from django.conf import settings
from rest_framework import serializers

from core.ids import MAX_ID
from marketplace.models import MAX_PRICE_CENTS, MIN_PRICE_CENTS, Listing, PhotoState
from marketplace.pricing import application_fee_cents, platform_fee_percent, seller_receives_cents
from marketplace.services import listing_purchase_blocker


def _media_url(request, field) -> str | None:
    if not field:
        return None
    url = field.url
    return request.build_absolute_uri(url) if request is not None else url


class ListingSerializer(serializers.ModelSerializer):
    purchasable = serializers.SerializerMethodField()
    purchase_blocker = serializers.SerializerMethodField()
    seller = serializers.SerializerMethodField()
    stub = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField()
    photo_state = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            # offers_enabled: POST /listings/<id>/offer/ takes an offer (never the hidden minimum).
            "id", "url", "status", "price_cents", "shipping_cents", "currency", "offers_enabled",
            "purchasable", "purchase_blocker", "seller",
            "stub", "photo_url", "photo_state", "thumbnail_url", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_status(self, listing) -> str:
        return listing.effective_status(self.context.get("now"))

    def _blocker(self, listing):
        # Cached per listing: purchasable and purchase_blocker come from one evaluation.
        cache = self.context.setdefault("_blockers", {})
        if listing.pk not in cache:
            request = self.context.get("request")
            buyer = request.user if request is not None else None
            now = self.context.get("now")
            cache[listing.pk] = listing_purchase_blocker(listing=listing, buyer=buyer, now=now)
        return cache[listing.pk]

    def get_purchasable(self, listing) -> bool:
        return self._blocker(listing) is None

    def get_purchase_blocker(self, listing) -> dict | None:
        blocker = self._blocker(listing)
        return blocker.as_dict() if blocker else None

    def get_seller(self, listing) -> dict:
        seller = listing.seller
        return {
            "username": seller.username,
            "display_name": seller.display_name,
            "can_accept_payments": seller.can_accept_payments,
        }

    def get_stub(self, listing) -> dict:
        stub = listing.stub
        return {
            "event_name": stub.event_name,
            "performer": stub.performer,
            "venue": stub.venue,
            "city": stub.city,
            "event_date": stub.event_date.isoformat(),
            "category": stub.category,
            "condition": stub.condition,
            "description": stub.description,
        }

    def get_photo_url(self, listing) -> str | None:
        return _media_url(self.context.get("request"), listing.stub.photo)

    def get_photo_state(self, listing) -> str | None:
        """"processing" until the photo task has published the cover (its URLs are null
        meanwhile), "ready" with a photo, null without one (a failed one is its seller's news)."""
        if listing.stub.photo_state == PhotoState.PROCESSING:
            return "processing"
        return "ready" if listing.stub.photo else None

    def get_thumbnail_url(self, listing) -> str | None:
        return _media_url(self.context.get("request"), listing.stub.thumbnail)

    def get_url(self, listing) -> str:
        path = f"/listings/{listing.pk}/"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class PaymentCompatibilityQuery(serializers.Serializer):
    listing_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


def payment_compatibility_global() -> dict:
    return {
        "payments_enabled": True,
        "currencies": ["usd"],
        "platform_fee_bps": settings.PLATFORM_FEE_BPS,
        "platform_fee_percent": platform_fee_percent(),
        "min_amount_cents": MIN_PRICE_CENTS,
        "max_amount_cents": MAX_PRICE_CENTS,
        "charge_type": "direct",
    }


def payment_compatibility_for(listing, blocker, *, viewer) -> dict:
    """The listing's checkout figures; the fee split only for its seller and staff (a buyer sees
    what they pay, as on the checkout page)."""
    figures = {
        "listing_id": listing.pk,
        "purchasable": blocker is None,
        "reasons": [blocker.as_dict()] if blocker else [],
        # What a checkout would charge: price plus shipping (docs/shipping.md), fee on the whole.
        "amount_cents": listing.total_cents,
        "price_cents": listing.price_cents,
        "shipping_cents": listing.shipping_cents,
        "currency": listing.currency,
    }
    if viewer.is_staff or viewer.pk == listing.seller_id:
        figures["application_fee_cents"] = application_fee_cents(listing.total_cents)
        figures["seller_receives_cents"] = seller_receives_cents(listing.total_cents)
    return figures

