"""Admin action on users: "Refresh Stripe status" re-reads the selected sellers' accounts.

The User admin belongs to accounts/admin.py; this module adds one action to it (admin modules
are imported in INSTALLED_APPS order, so accounts' admin is registered by then). The stored state
still comes only from Stripe, through `seller_refresh_from_stripe`.
"""

from django.contrib import admin, messages

from accounts.models import User
from connect.services import seller_refresh_from_stripe
from core.errors import DomainError


@admin.action(description="Refresh Stripe status from Stripe", permissions=["change"])
def refresh_stripe_status(modeladmin, request, queryset):
    refreshed, failed, skipped = [], [], 0
    for user in queryset.order_by("pk"):
        if not (user.is_seller and user.stripe_account_id):
            skipped += 1
            continue
        try:
            seller_refresh_from_stripe(user=user, actor=request.user)
        except DomainError as error:
            failed.append(f"{user.username} ({error.message})")
        else:
            refreshed.append(f"{user.username}: {user.stripe_account_status}")
    if refreshed:
        modeladmin.message_user(request, "Refreshed " + "; ".join(refreshed), messages.SUCCESS)
    if failed:
        modeladmin.message_user(request, "Stripe did not answer for " + ", ".join(failed), messages.ERROR)
    if skipped:
        modeladmin.message_user(
            request, f"{skipped} user(s) without a Stripe account skipped.", messages.INFO
        )


def install() -> None:
    user_admin = admin.site._registry.get(User)
    if user_admin is not None and refresh_stripe_status not in (user_admin.actions or ()):
        user_admin.actions = [*(user_admin.actions or ()), refresh_stripe_status]


install()
