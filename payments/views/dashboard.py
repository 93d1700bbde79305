"""The seller dashboard: listings, sales, 30-day chart; the Stripe account's panels (onboarding
state and next step, balance, payouts) come from Connect's `{% seller_stripe_account %}` tag in
the template, and open disputes from the disputes tags."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from payments.charts import sales_bar_chart, sales_summary
from payments.forms import ShipOrderForm
from payments.selectors import dashboard as selectors
from payments.selectors.money import sales_with_money


@require_GET
@login_required
def seller_dashboard(request):
    user = request.user
    if not user.is_seller:
        return render(request, "payments/dashboard_invite.html")

    series = selectors.dashboard_sales_by_day(seller=user)
    context = {
        "listing_groups": selectors.dashboard_listing_groups(seller=user),
        "sales": sales_with_money(orders=selectors.dashboard_sales(seller=user)),
        "ship_form": ShipOrderForm(),
        "chart": sales_bar_chart(series),
        "chart_summary": sales_summary(series),
        "chart_days": len(series),
    }
    return render(request, "payments/dashboard.html", context)
