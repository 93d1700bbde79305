"""Absolute URLs on the site's own address.

Every link that leaves the request (emails, URLs sent to Stripe, the password-reset link) is
built on SITE_URL, never on the Host a request claimed: a forged Host would otherwise send a
buyer, a token or Stripe to an attacker's site.
"""

from django.conf import settings

SITE_NAME = "Stub Collector"


def site_root() -> str:
    """SITE_URL without a trailing slash, e.g. "https://stubcollector.example"."""
    return settings.SITE_URL.rstrip("/")


def absolute_url(path: str) -> str:
    """`path` (a site path such as "/orders/7/") on SITE_URL."""
    return f"{site_root()}/{path.lstrip('/')}"
