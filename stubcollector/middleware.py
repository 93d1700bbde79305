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
    """Only our own origin, plus the Stripe.js origin for its script, frames and API calls."""

    def __init__(self, get_response):
        self.get_response = get_response
        stripe_origins = " ".join(
            sorted({o for o in (_origin(settings.STRIPE_JS_URL), _origin(settings.STRIPE_API_HOST)) if o})
        )
        self.policy = "; ".join(
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

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
