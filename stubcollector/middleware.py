from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.shortcuts import render

from stubcollector.errors import DomainError, json_error


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return (
        request.path.startswith(("/api/", "/marketplace/", "/payments/"))
        or "application/json" in accept
        or request.content_type == "application/json"
    )


class DomainErrorMiddleware:
    """Turns a DomainError raised by any view into a 4xx/5xx answer, JSON or HTML."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        if wants_json(request):
            return json_error(exception.code, exception.message, exception.status)
        return render(
            request,
            "error.html",
            {
                "message": exception.message,
                "code": exception.code,
                "status": exception.status,
                "retry_url": request.get_full_path() if exception.status >= 500 else None,
            },
            status=exception.status,
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


class ContentSecurityPolicyMiddleware:
    """Only our own origin, plus the Stripe.js origin for its script, frames and API calls.

    The policy is built from the settings at each request (cached by their values), so a test
    that points STRIPE_API_HOST at a sandbox on a fresh port gets a policy allowing it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    @lru_cache(maxsize=8)
    def policy_for(stripe_js_url: str, stripe_api_host: str) -> str:
        origins = {_origin(stripe_js_url), _origin(stripe_api_host)} - {""}
        stripe_origins = " ".join(sorted(origins))
        return "; ".join(
            [
                "default-src 'self'",
                f"script-src 'self' {stripe_origins}",
                f"frame-src 'self' {stripe_origins}",
                f"connect-src 'self' {stripe_origins}",
                "img-src 'self' data:",
                "style-src 'self'",
                "object-src 'none'",
                "base-uri 'self'",
                "frame-ancestors 'none'",
            ]
        )

    @property
    def policy(self) -> str:
        return self.policy_for(settings.STRIPE_JS_URL, settings.STRIPE_API_HOST)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
