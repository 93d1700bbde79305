"""The two signed Stripe webhook endpoints. Thin: source check, then the webhook service."""

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from payments.ip_allowlist import client_ip, is_stripe_webhook_ip, ratelimit_key
from payments.services.webhooks import CONNECT, PLATFORM, WebhookSourceRefused, webhook_receive

# Far above Stripe's real delivery rate; it only stops a flood from one address.
WEBHOOK_RATE_PER_IP = "1000/m"


def _receive(request, endpoint: str) -> JsonResponse:
    address = client_ip(request)
    if settings.STRIPE_WEBHOOK_IP_ALLOWLIST and not is_stripe_webhook_ip(address):
        raise WebhookSourceRefused()
    trigger = webhook_receive(
        endpoint=endpoint, payload=request.body, headers=request.headers, remote_ip=address
    )
    return JsonResponse({"received": True, "event": trigger.event_id})


# Stripe signs its requests instead of sending a CSRF token; the processing manages its own
# transactions so a failed event's trigger row survives the rollback of its writes.
@csrf_exempt
@require_POST
@transaction.non_atomic_requests
@ratelimit(group="payments.webhook", key=ratelimit_key, rate=WEBHOOK_RATE_PER_IP, block=True)
def platform_webhook(request):
    return _receive(request, PLATFORM)


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
@ratelimit(group="payments.webhook.connect", key=ratelimit_key, rate=WEBHOOK_RATE_PER_IP, block=True)
def connect_webhook(request):
    return _receive(request, CONNECT)
