from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User

STRIPE_FIELDS = (
    "stripe_account_id",
    "stripe_account_status",
    "stripe_onboarding_completed",
    "stripe_capabilities_enabled",
    "stripe_requirements_due",
    "stripe_requirements_past_due",
    "stripe_disabled_reason",
    "stripe_account_synced_at",
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff see every seller's Stripe state here; it is written only by Stripe (webhooks and
    re-reads in payments.services.connect), so it is read-only."""

    list_display = (
        "username",
        "email",
        "is_seller",
        "seller_country",
        "stripe_account_status",
        "accepts_payments",
        "is_staff",
        "date_joined",
    )
    list_filter = (
        "is_seller",
        "stripe_account_status",
        "stripe_onboarding_completed",
        "seller_country",
        "is_staff",
        "is_active",
    )
    search_fields = ("username", "email", "first_name", "last_name", "stripe_account_id")
    readonly_fields = (*STRIPE_FIELDS, "last_login", "date_joined")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Seller", {"fields": ("is_seller", "seller_country", "seller_verification_level", "seller_bio")}),
        ("Stripe Connect (read-only, synced from Stripe)", {"fields": STRIPE_FIELDS}),
    )

    @admin.display(boolean=True, description="Can take payments")
    def accepts_payments(self, obj: User) -> bool:
        return obj.can_accept_payments
