"""Which addresses may deliver Stripe webhooks, and how we learn the caller's address.

Stripe publishes the addresses its webhooks come from (https://stripe.com/files/ips/ips_webhooks.txt);
with `STRIPE_WEBHOOK_IP_ALLOWLIST` on, the webhook views accept only these. The caller's address
is the socket's (`REMOTE_ADDR`) unless `STRIPE_WEBHOOK_TRUSTED_PROXIES` reverse proxies stand in
front of us: each appends the address it saw to `X-Forwarded-For`, so the client is the Nth entry
from the right. Everything to the left of it was written by the client and proves nothing.
"""

import ipaddress

from django.conf import settings

STRIPE_WEBHOOK_IPS: tuple[str, ...] = (
    "3.18.12.63",
    "3.130.192.231",
    "13.235.14.237",
    "13.235.122.149",
    "18.211.135.69",
    "35.154.171.200",
    "52.15.183.38",
    "54.88.130.119",
    "54.88.130.237",
    "54.187.174.169",
    "54.187.205.235",
    "54.187.216.72",
)

_STRIPE_WEBHOOK_ADDRESSES = frozenset(ipaddress.ip_address(ip) for ip in STRIPE_WEBHOOK_IPS)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    address = (address or "").strip()
    if address.startswith("[") and "]" in address:  # [v6]:port
        address = address[1:].split("]", 1)[0]
    elif address.count(":") == 1:  # v4:port (some proxies append the port)
        address = address.split(":", 1)[0]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    # An IPv4 address seen through an IPv6 socket (::ffff:1.2.3.4) is the IPv4 address.
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        return parsed.ipv4_mapped
    return parsed


def client_ip(request, trusted_proxies: int | None = None) -> str | None:
    """The caller's address as far as we can trust it, or None when it cannot be told.

    With N trusted proxies, the socket address is the last proxy and X-Forwarded-For's Nth
    entry from the right is what the outermost proxy saw. A header shorter than N means the
    request did not come through all our proxies: we refuse to guess.
    """
    if trusted_proxies is None:
        trusted_proxies = settings.STRIPE_WEBHOOK_TRUSTED_PROXIES
    if trusted_proxies <= 0:
        parsed = _parse(request.META.get("REMOTE_ADDR", ""))
        return str(parsed) if parsed else None
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < trusted_proxies:
        return None
    parsed = _parse(forwarded[-trusted_proxies])
    return str(parsed) if parsed else None


def is_stripe_webhook_ip(address: str | None) -> bool:
    parsed = _parse(address) if address else None
    return parsed is not None and parsed in _STRIPE_WEBHOOK_ADDRESSES


def ratelimit_key(group, request) -> str:
    """django-ratelimit key: the same trusted address the allowlist judges."""
    return client_ip(request) or "unknown"
