"""Staff tools for listings: find them, see their state, withdraw in bulk."""

from django.contrib import admin, messages

from marketplace.models import Listing, ListingStatus, Stub
from marketplace.services import ListingNotWithdrawable, listing_withdraw


@admin.register(Stub)
class StubAdmin(admin.ModelAdmin):
    list_display = ["event_name", "performer", "venue", "city", "event_date", "category", "condition"]
    list_filter = ["category", "condition"]
    search_fields = ["event_name", "performer", "venue", "city"]
    date_hierarchy = "event_date"
    readonly_fields = ["created_at"]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = [
        "id", "event_name", "seller", "price", "status", "reserved_by", "reserved_until", "created_at",
    ]
    list_filter = ["status", "stub__category"]
    list_select_related = ["stub", "seller", "reserved_by"]
    search_fields = ["id", "stub__event_name", "stub__performer", "seller__username", "seller__email"]
    raw_id_fields = ["seller", "stub", "reserved_by"]
    readonly_fields = ["currency", "created_at", "updated_at"]
    actions = ["withdraw_selected"]

    @admin.display(ordering="stub__event_name")
    def event_name(self, listing):
        return listing.stub.event_name

    @admin.display(ordering="price_cents")
    def price(self, listing):
        return f"${listing.price_dollars}"

    @admin.action(description="Withdraw the selected listings (not while a buyer is paying)")
    def withdraw_selected(self, request, queryset):
        done, refused = 0, []
        for listing in queryset.exclude(status=ListingStatus.WITHDRAWN).select_related("seller"):
            try:
                listing_withdraw(listing_id=listing.pk, seller=listing.seller)
                done += 1
            except ListingNotWithdrawable as error:
                refused.append(f"#{listing.pk}: {error.message}")
        if done:
            self.message_user(request, f"Withdrew {done} listing(s).", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)
