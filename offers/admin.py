"""Offers in admin: read-only for staff (Support and Finance view them; nobody adds, changes or
deletes one here: every change goes through offers.services, with its emails and audit rows)."""

from django.contrib import admin

from core.money import format_usd
from offers.models import Offer


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ("pk", "listing", "buyer", "seller", "amount", "counter", "agreed", "status", "expires_at",
                    "created_at")
    list_filter = ("status", "declined_automatically")
    search_fields = ("=id", "=listing__id", "buyer__username", "buyer__email", "seller__username",
                     "seller__email")
    list_select_related = ("listing__stub", "buyer", "seller")
    raw_id_fields = ("listing", "buyer", "seller", "order")
    date_hierarchy = "created_at"

    @admin.display(description="Offer", ordering="amount_cents")
    def amount(self, offer):
        return format_usd(offer.amount_cents)

    @admin.display(description="Counter", ordering="counter_cents")
    def counter(self, offer):
        return format_usd(offer.counter_cents) if offer.counter_cents is not None else "—"

    @admin.display(description="Agreed", ordering="agreed_cents")
    def agreed(self, offer):
        return format_usd(offer.agreed_cents) if offer.agreed_cents is not None else "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
