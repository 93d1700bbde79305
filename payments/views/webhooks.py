"""The two signed Stripe webhook endpoints. Thin: source check, then the webhook service."""

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited

from payments.ip_allowlist import client_ip, is_stripe_webhook_ip, ratelimit_key
from payments.services.webhooks import (
    CONNECT,
    PLATFORM,
    InvalidWebhook,
    WebhookSourceRefused,
    webhook_receive,
)

# Failed verifications (bad signature or body, refused source) per address: a flood of junk is
# answered 429. Valid, signed deliveries are never counted nor refused for rate: Stripe delivers
# from a few addresses and a busy hour must not throttle it.
WEBHOOK_RATE_PER_IP = "100/m"


def _count_failure(request, endpoint: str) -> None:
    """Count one failed verification; over the limit, answer 429 instead of the 4xx."""
    if is_ratelimited(request, group=f"payments.webhook.{endpoint}.failed", key=ratelimit_key,
                      rate=WEBHOOK_RATE_PER_IP, increment=True):
        raise Ratelimited()


def _receive(request, endpoint: str) -> JsonResponse:
    address = client_ip(request)
    try:
        if settings.STRIPE_WEBHOOK_IP_ALLOWLIST and not is_stripe_webhook_ip(address):
            raise WebhookSourceRefused()
        trigger = webhook_receive(
            endpoint=endpoint, payload=request.body, headers=request.headers, remote_ip=address
        )
    except (InvalidWebhook, WebhookSourceRefused):
        _count_failure(request, endpoint)
        raise
    # Stored and queued: 200 now, whatever the processing does later (a worker retries it).
    return JsonResponse({"received": True, "event": trigger.json_body["id"]})


# Stripe signs its requests instead of sending a CSRF token; outside a transaction, so the
# stored delivery is committed before a worker is told, and a failed event's trigger row
# survives the rollback of its writes.
@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def platform_webhook(request):
    return _receive(request, PLATFORM)


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def connect_webhook(request):
    return _receive(request, CONNECT)
