"""CHECKOUT_ENABLED=false: checkout is paused, the rest of the site stays up.

The payment routes (the checkout page and creating a PaymentIntent) answer 503 with a clear
message, JSON or HTML; buy buttons say checkout is paused (templates read CHECKOUT_ENABLED);
webhooks keep being processed, so money already in flight still lands on its order.
"""

from django.conf import settings
from django.shortcuts import render

from core.errors import DomainError, json_error
from core.middleware import error_page_context, wants_json

PAUSED_VIEWS = {"payments_pages:checkout", "payments:create_payment_intent"}


class CheckoutPaused(DomainError):
    code = "checkout_paused"
    status = 503
    message = ("Checkout is paused for a short while. Nothing was charged; "
               "please try again later. Browsing and your orders work as usual.")


class CheckoutPauseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if settings.CHECKOUT_ENABLED:
            return None
        match = request.resolver_match
        if match is None or match.view_name not in PAUSED_VIEWS:
            return None
        error = CheckoutPaused()
        if wants_json(request):
            response = json_error(error.code, error.message, error.status)
        else:
            response = render(request, "error.html", error_page_context(request, error), status=error.status)
        response["Retry-After"] = "600"
        return response
