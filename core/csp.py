"""The Content Security Policy's Stripe part, built from Stripe's published list, and the origin
of the stub photos when they are served from S3 (core/storage.py).

django-csp (csp.middleware.CSPMiddleware) writes the header; settings.CONTENT_SECURITY_POLICY
holds our own part ('self', no inline script, no framing). `StripeCSPMiddleware` adds the
Stripe origins for the Stripe settings in force at each request, so a test that points
STRIPE_API_HOST at a sandbox on a fresh port gets a policy allowing exactly that sandbox.

With real Stripe (STRIPE_API_HOST is https://api.stripe.com) the origins are the ones Stripe's
security guide lists for Stripe.js, the Payment Element and 3-D Secure challenges:
https://docs.stripe.com/security/guide#content-security-policy
Offline, only the sandbox's own origin (Stripe.js stand-in, API, 3-D Secure page) is allowed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

from core.storage import media_origin

STRIPE_API_ORIGIN = "https://api.stripe.com"

# Stripe's security guide, "Content Security Policy": what Stripe.js (Elements, the Payment
# Element, 3-D Secure challenges in hooks.stripe.com frames, address autocomplete) loads.
STRIPE_PUBLISHED_SOURCES: dict[str, tuple[str, ...]] = {
    "script-src": ("https://js.stripe.com", "https://*.js.stripe.com", "https://maps.googleapis.com"),
    "frame-src": ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"),
    "connect-src": ("https://api.stripe.com", "https://maps.googleapis.com"),
    "img-src": ("https://*.stripe.com",),
}


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def uses_real_stripe(*, stripe_api_host: str) -> bool:
    return (stripe_api_host or "").rstrip("/") == STRIPE_API_ORIGIN


def stripe_csp_sources(*, stripe_js_url: str, stripe_api_host: str) -> dict[str, list[str]]:
    """Sources to add per directive: the configured Stripe.js and API origins, plus Stripe's
    published list when the API host is Stripe's own."""
    js, api = _origin(stripe_js_url), _origin(stripe_api_host)
    real = uses_real_stripe(stripe_api_host=stripe_api_host)
    # Stripe.js from its origin; API calls from the API's; the sandbox's 3-D Secure page is on
    # its API origin too (real Stripe's challenges are framed from hooks.stripe.com, below).
    sources: dict[str, list[str]] = {
        "script-src": sorted({js} - {""}),
        "frame-src": sorted({js} - {""} if real else {js, api} - {""}),
        "connect-src": sorted({api} - {""}),
    }
    if real:
        for directive, published in STRIPE_PUBLISHED_SOURCES.items():
            merged = sources.setdefault(directive, [])
            merged.extend(origin for origin in published if origin not in merged)
    return sources


class StripeCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, plus the Stripe origins of the settings in force."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if report_only:
            return parts
        stripe = stripe_csp_sources(
            stripe_js_url=settings.STRIPE_JS_URL, stripe_api_host=settings.STRIPE_API_HOST
        )
        update = dict(parts.update or {})
        for directive, sources in stripe.items():
            update[directive] = [*update.get(directive, []), *sources]
        media = media_origin()  # the photos' bucket or CDN when it is not this site
        if media:
            update["img-src"] = [*update.get("img-src", []), media]
        parts.update = update
        return parts
