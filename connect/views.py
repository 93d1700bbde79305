"""Seller onboarding routes under /payments/ (docs/architecture.md, "URLs"). Thin: parse, call,
answer.

Only ever the logged-in user's own account: there is no account id parameter anywhere.
The browser routes (onboard, return, refresh, Express dashboard) redirect; the JSON routes
(status, balance) answer JSON. Stripe failures are DomainErrors that DomainErrorMiddleware
answers as the client asked: the error page (with a retry) for a browser, the house JSON error
for a JSON caller.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.models import StripeAccountStatus
from connect import services as connect_services
from core.middleware import asks_for_json
from core.views import rate_limited
from payments.views.common import refuse_anonymous

ONBOARD_RATE = "10/m"


class _SeeOther(HttpResponseRedirect):
    """303: after a POST the browser follows with a GET (to Stripe's onboarding page)."""

    status_code = 303


def _login_required_unless_json(view):
    """Browser routes: the log-in redirect, except for a caller that asked for JSON (the house 403)."""
    for_browsers = login_required(view)
    for_json_callers = refuse_anonymous(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        chosen = for_json_callers if asks_for_json(request) else for_browsers
        return chosen(request, *args, **kwargs)

    return wrapper


@require_POST
@ratelimit(key="user_or_ip", rate=ONBOARD_RATE, method="POST", block=False)
@_login_required_unless_json
def connect_onboard(request):
    """Create or reuse the seller's Express account and send them to a fresh Account Link."""
    if getattr(request, "limited", False):
        return rate_limited(request)
    url = connect_services.seller_start_onboarding(user=request.user)
    if asks_for_json(request):
        return JsonResponse({"url": url})
    return _SeeOther(url)


@require_GET
@_login_required_unless_json
def connect_return(request):
    """Stripe sends the seller back here; we re-read the account before believing anything."""
    user = request.user
    if not user.is_seller or not user.stripe_account_id:
        messages.info(request, "You have not started Stripe onboarding yet.")
        return redirect("payments_pages:dashboard")
    connect_services.seller_refresh_from_stripe(user=user)
    if user.can_accept_payments:
        messages.success(request, "Your Stripe account is ready: you can now accept payments.")
    elif user.stripe_account_status == StripeAccountStatus.DISABLED:
        messages.error(request, "Stripe has disabled payments on your account. See the details below.")
    elif user.stripe_onboarding_completed:
        messages.warning(request, "Thanks! Stripe still needs a few things before you can accept payments.")
    else:
        messages.warning(request, "Onboarding is not finished yet. Continue whenever you are ready.")
    return redirect("payments_pages:dashboard")


@require_GET
@_login_required_unless_json
def connect_refresh(request):
    """The link expired or was used: make a new one and go straight back to Stripe."""
    user = request.user
    if not user.is_seller or not user.stripe_account_id:
        messages.info(request, "Start Stripe onboarding from your dashboard.")
        return redirect("payments_pages:dashboard")
    url = connect_services.seller_account_link(user=user)
    return redirect(url)


@require_GET
@_login_required_unless_json
def connect_express_dashboard(request):
    """A fresh, single-use login link into the seller's Stripe Express dashboard."""
    return redirect(connect_services.seller_login_link(user=request.user))


@require_GET
@refuse_anonymous
def connect_status(request):
    return JsonResponse(connect_services.seller_status(user=request.user))


@require_GET
@refuse_anonymous
def connect_balance(request):
    balance = connect_services.seller_balance(user=request.user)
    return JsonResponse(balance.as_json())
