from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import User
from accounts.services import username_problem
from core.money import format_usd

STRIPE_FIELDS = (
    "stripe_account_id",
    "stripe_account_status",
    "stripe_onboarding_completed",
    "stripe_capabilities_enabled",
    "stripe_requirements_due",
    "stripe_requirements_past_due",
    "stripe_disabled_reason",
    "stripe_account_synced_at",
    "stripe_disconnected_at",
    "stripe_losses_liable",
    "stripe_balance_available_cents",
    "stripe_balance_cents",
    "stripe_balance_synced_at",
)


class NegativeBalanceFilter(admin.SimpleListFilter):
    """Sellers who owe Stripe more than their balance holds (the platform is liable)."""

    title = "Stripe balance"
    parameter_name = "stripe_balance"

    def lookups(self, request, model_admin):
        return (("negative", "Negative (cannot take orders)"), ("disconnected", "Disconnected from Stripe"))

    def queryset(self, request, queryset):
        if self.value() == "negative":
            return queryset.filter(stripe_balance_cents__lt=0)
        if self.value() == "disconnected":
            return queryset.filter(stripe_disconnected_at__isnull=False)
        return queryset


def _refuse_look_alike(username: str, *, user: User | None = None) -> str:
    """Staff get sign-up's message for a name that reads like another user's (the unique
    username_key would otherwise fail the save with a server error)."""
    problem = username_problem(username, user=user)
    if problem:
        raise forms.ValidationError(problem, code="confusable_username")
    return username


class UserAddForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User

    def clean_username(self):
        return _refuse_look_alike(super().clean_username())


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def clean_username(self):
        username = self.cleaned_data["username"]
        if "username" not in self.changed_data:  # a legacy name stays editable otherwise
            return username
        return _refuse_look_alike(username, user=self.instance)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff see every seller's Stripe state here; it is written only by Stripe (webhooks and
    re-reads in connect.services), so it is read-only."""

    add_form = UserAddForm
    form = UserEditForm

    list_display = (
        "username",
        "email",
        "is_seller",
        "seller_country",
        "stripe_account_status",
        "accepts_payments",
        "stripe_balance",
        "is_staff",
        "date_joined",
    )
    list_filter = (
        NegativeBalanceFilter,
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

    @admin.display(description="Stripe balance", ordering="stripe_balance_cents")
    def stripe_balance(self, obj: User) -> str:
        """Available + pending as Stripe last reported it; a negative one says who is liable."""
        if not obj.stripe_account_id:
            return "-"
        if obj.stripe_disconnected_at:
            return "disconnected"
        text = format_usd(obj.stripe_balance_cents)
        if obj.stripe_balance_negative:
            text += f" NEGATIVE (liable: {obj.stripe_losses_liable or 'unknown'})"
        return text
