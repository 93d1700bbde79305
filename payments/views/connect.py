"""Seller onboarding routes under /payments/ (the DESIGN contract). Thin: parse, call, answer.

Only ever the logged-in user's own account: there is no account id parameter anywhere.
The browser routes (onboard, return, refresh, Express dashboard) answer Stripe failures with a
page that explains and offers a retry; the JSON routes (status, balance) answer the house JSON
error. /payments/ paths count as JSON for DomainErrorMiddleware, so the browser routes turn
their errors into pages themselves (`_browser_route`).
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.models import StripeAccountStatus
from payments.services import connect as connect_services
from stubcollector.errors import DomainError, json_error
from stubcollector.views import rate_limited

ONBOARD_RATE = "10/m"


def _asks_for_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


class _SeeOther(HttpResponseRedirect):
    """303: after a POST the browser follows with a GET (to Stripe's onboarding page)."""

    status_code = 303


def _browser_route(view):
    """Login required (log-in redirect, or 403 JSON when JSON was asked for); DomainErrors as pages."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if _asks_for_json(request):
                return json_error("not_authenticated", "Log in to manage your seller account.", 403)
            return redirect_to_login(request.get_full_path())
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            if _asks_for_json(request):
                return json_error(error.code, error.message, error.status)
            return render(
                request,
                "payments/connect_error.html",
                {
                    "message": error.message,
                    "code": error.code,
                    "status": error.status,
                    # A failed POST is retried by POSTing again (the page has the form); a GET by reloading.
                    "retry_post_url": request.path
                    if error.status >= 500 and request.method == "POST"
                    else None,
                    "retry_url": request.get_full_path()
                    if error.status >= 500 and request.method != "POST"
                    else None,
                },
                status=error.status,
            )

    return wrapper


def _json_route(view):
    """Login required as a JSON 403; DomainErrors become the house JSON error."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return json_error("not_authenticated", "Log in to see your seller account.", 403)
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return json_error(error.code, error.message, error.status)

    return wrapper


@require_POST
@ratelimit(key="user_or_ip", rate=ONBOARD_RATE, method="POST", block=False)
@_browser_route
def connect_onboard(request):
    """Create or reuse the seller's Express account and send them to a fresh Account Link."""
    if getattr(request, "limited", False):
        return rate_limited(request)
    url = connect_services.seller_start_onboarding(
        user=request.user, base_url=request.build_absolute_uri("/")
    )
    if _asks_for_json(request):
        return JsonResponse({"url": url})
    return _SeeOther(url)


@require_GET
@_browser_route
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
@_browser_route
def connect_refresh(request):
    """The link expired or was used: make a new one and go straight back to Stripe."""
    user = request.user
    if not user.is_seller or not user.stripe_account_id:
        messages.info(request, "Start Stripe onboarding from your dashboard.")
        return redirect("payments_pages:dashboard")
    url = connect_services.seller_account_link(user=user, base_url=request.build_absolute_uri("/"))
    return redirect(url)


@require_GET
@_browser_route
def connect_express_dashboard(request):
    """A fresh, single-use login link into the seller's Stripe Express dashboard."""
    return redirect(connect_services.seller_login_link(user=request.user))


@require_GET
@_json_route
def connect_status(request):
    return JsonResponse(connect_services.seller_status(user=request.user))


@require_GET
@_json_route
def connect_balance(request):
    balance = connect_services.seller_balance(user=request.user)
    return JsonResponse(balance.as_json())
