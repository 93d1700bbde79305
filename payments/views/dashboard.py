"""The seller dashboard: onboarding state and next step, balance, listings, sales, 30-day chart."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import StripeAccountStatus
from core.errors import DomainError
from payments import selectors_dashboard as selectors
from payments.charts import sales_bar_chart, sales_summary
from payments.forms import ShipOrderForm
from payments.selectors_money import sales_with_money, seller_balance_explanation
from payments.selectors_payouts import seller_payouts_panel
from payments.services import connect as connect_services


def _onboarding_step(user) -> str:
    """start | disconnected | negative_balance | continue | enabled | disabled: which panel shows."""
    if not user.stripe_account_id:
        return "start"
    if user.stripe_disconnected_at:
        return "disconnected"
    if user.stripe_balance_negative:
        return "negative_balance"
    if user.can_accept_payments:
        return "enabled"
    if user.stripe_account_status == StripeAccountStatus.DISABLED:
        return "disabled"
    return "continue"


@require_GET
@login_required
def seller_dashboard(request):
    user = request.user
    if not user.is_seller:
        return render(request, "payments/dashboard_invite.html")

    balance = None
    balance_error = ""
    if user.stripe_account_id:
        try:
            balance = connect_services.seller_balance(user=user)
        except DomainError as error:
            # The page still works without Stripe; the seller can reload to retry.
            balance_error = error.message

    series = selectors.dashboard_sales_by_day(seller=user)
    # Before the form is submitted Stripe marks everything past due at once; "overdue" only
    # means something once the seller has been through onboarding.
    past_due = list(user.stripe_requirements_past_due or []) if user.stripe_onboarding_completed else []
    context = {
        "step": _onboarding_step(user),
        "requirements": connect_services.requirements_in_plain_words(
            [key for key in user.stripe_requirements_due or [] if key not in past_due]
        ),
        "requirements_past_due": connect_services.requirements_in_plain_words(past_due),
        "disabled_reason": connect_services.disabled_reason_in_plain_words(user.stripe_disabled_reason),
        "outlook": connect_services.requirements_outlook(user=user),
        "balance": balance,
        "balance_error": balance_error,
        "listing_groups": selectors.dashboard_listing_groups(seller=user),
        "sales": sales_with_money(orders=selectors.dashboard_sales(seller=user)),
        "payouts": seller_payouts_panel(user=user, balance=balance),
        "balance_explanation": seller_balance_explanation(seller=user),
        "ship_form": ShipOrderForm(),
        "chart": sales_bar_chart(series),
        "chart_summary": sales_summary(series),
        "chart_days": len(series),
    }
    return render(request, "payments/dashboard.html", context)
