"""Stripe webhooks: verify, record once through dj-stripe, dispatch to our handlers.

The flow for one delivery (`webhook_receive`):

1. Verify `Stripe-Signature` over the raw body with the endpoint's own secret and a 300 s
   tolerance. Anything wrong is a 400 and writes nothing.
2. Record the delivery as a dj-stripe `WebhookEventTrigger` (raw body, headers, our trusted
   client address) and process it: `djstripe.models.Event.process` stores the Event once by id
   (a duplicate id returns the stored Event without running handlers again), re-fetches the
   object the event names, mirrors it, and sends `djstripe.signals.WEBHOOK_SIGNALS[type]`.
3. Our receiver (`webhook_dispatch`) looks the type up in `HANDLERS`; each handler locks the
   order row and applies what Stripe's current object says, so a late or repeated event is
   old news and changes nothing.

The Event insert and every handler write share one transaction: a handler's exception rolls
all of it back (the Event is not stored, so a redelivery processes it again), the trigger row
keeps the exception and traceback for replay, and the view answers 500 so Stripe retries.
"""

import json
import logging
from traceback import format_exc

import stripe
from django.conf import settings
from django.db import transaction
from djstripe import signals as djstripe_signals
from djstripe.enums import WebhookEndpointStatus, WebhookEndpointValidation
from djstripe.models import Event, WebhookEndpoint, WebhookEventTrigger

from payments.services import disputes, payment_events
from stubcollector.errors import DomainError

logger = logging.getLogger(__name__)

PLATFORM = "platform"
CONNECT = "connect"

# Our two endpoints, as dj-stripe WebhookEndpoint rows (made on first use). The secrets stay
# in settings, never in the database.
ENDPOINTS = {
    PLATFORM: {"id": "we_stubcollector_platform", "secret_setting": "STRIPE_WEBHOOK_SECRET",
               "path": "/payments/webhook/"},
    CONNECT: {"id": "we_stubcollector_connect", "secret_setting": "STRIPE_CONNECT_WEBHOOK_SECRET",
              "path": "/payments/webhook/connect/"},
}

# Headers worth keeping with a delivery (for replay and debugging); never cookies or auth.
KEPT_HEADERS = ("Content-Type", "Stripe-Signature", "User-Agent", "X-Forwarded-For", "X-Request-Id")


class InvalidWebhook(DomainError):
    code = "invalid_webhook"
    status = 400
    message = "The webhook could not be verified."


class WebhookSourceRefused(DomainError):
    code = "webhook_source_refused"
    status = 403
    message = "Webhooks are accepted only from Stripe's addresses."


class WebhookProcessingFailed(DomainError):
    """A handler failed; the delivery is kept for replay and Stripe will retry it."""

    code = "webhook_processing_failed"
    status = 500
    message = "The event was received but could not be applied; it will be retried."


# -- the dispatch table ------------------------------------------------------------------------

def _account_updated(*, event: Event) -> None:
    from payments.services.connect import seller_sync_account

    account = event.data.get("object") or {}
    # dj-stripe has just re-fetched the account: newer than the event's copy if they differ.
    fresh = _mirrored_stripe_data("Account", account.get("id")) or account
    seller_sync_account(account=fresh, stripe_event_id=event.id)


HANDLERS = {
    "payment_intent.succeeded": payment_events.payment_intent_event_apply,
    "payment_intent.payment_failed": payment_events.payment_intent_event_apply,
    "payment_intent.canceled": payment_events.payment_intent_event_apply,
    "charge.refunded": payment_events.charge_refunded_apply,
    "charge.dispute.created": disputes.dispute_event_apply,
    "charge.dispute.updated": disputes.dispute_event_apply,
    "charge.dispute.closed": disputes.dispute_event_apply,
    "charge.dispute.funds_withdrawn": disputes.dispute_event_apply,
    "charge.dispute.funds_reinstated": disputes.dispute_event_apply,
    "account.updated": _account_updated,
}


def _mirrored_stripe_data(model_name: str, object_id: str | None) -> dict | None:
    """What dj-stripe just re-fetched and mirrored for this event's object, if it did."""
    if not object_id:
        return None
    from djstripe import models as djstripe_models

    row = getattr(djstripe_models, model_name).objects.filter(id=object_id).first()
    return row.stripe_data if row is not None and row.stripe_data else None


def webhook_dispatch(sender, event: Event, **kwargs) -> None:
    """Receiver for dj-stripe's per-type signals: run our handler for the event's type."""
    handler = HANDLERS.get(event.type)
    if handler is not None:
        handler(event=event)


def webhooks_connect_signals() -> None:
    """Hook `webhook_dispatch` to dj-stripe's signals (PaymentsConfig.ready). dj-stripe's own
    receivers were connected first, so by the time ours runs the object is mirrored."""
    for event_type in HANDLERS:
        djstripe_signals.WEBHOOK_SIGNALS[event_type].connect(
            webhook_dispatch, sender=Event, dispatch_uid=f"payments.webhooks:{event_type}"
        )


# -- verification ------------------------------------------------------------------------------

def webhook_secret(endpoint: str) -> str:
    return getattr(settings, ENDPOINTS[endpoint]["secret_setting"])


def webhook_verify(*, payload: bytes, signature: str | None, secret: str,
                   tolerance: int | None = None) -> dict:
    """The event dict, if `signature` signs `payload` with `secret` within `tolerance` seconds."""
    if tolerance is None:
        tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    if not signature:
        raise InvalidWebhook("The Stripe-Signature header is missing.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidWebhook("The body is not UTF-8.") from None
    try:
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance)
    except stripe.SignatureVerificationError:
        raise InvalidWebhook("The Stripe-Signature header does not match the body.") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested too deep ("[[[[…")
        raise InvalidWebhook("The body is not JSON.") from None
    # Shape only (string id and type, an object under data): a signed but malformed body is a
    # 400, not a handler crash answered with 500 and retried by Stripe forever.
    if not isinstance(data, dict) or data.get("object") != "event" \
            or not isinstance(data.get("id"), str) or not data["id"] \
            or not isinstance(data.get("type"), str) or not data["type"] \
            or not isinstance(data.get("data"), dict) or not isinstance(data["data"].get("object"), dict):
        raise InvalidWebhook("The body is not a Stripe event.")
    if _contains_nul(data):
        # PostgreSQL cannot store NUL in text or jsonb; Stripe never sends one.
        raise InvalidWebhook("The event contains a NUL character.")
    return data


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


# -- recording and processing ------------------------------------------------------------------

def webhook_endpoint_get(endpoint: str) -> WebhookEndpoint:
    """dj-stripe's row for one of our endpoints (a trigger must name one); made on first use."""
    spec = ENDPOINTS[endpoint]
    row, _ = WebhookEndpoint.objects.get_or_create(
        id=spec["id"],
        defaults={
            "url": settings.SITE_URL.rstrip("/") + spec["path"],
            "enabled_events": ["*"],
            "status": WebhookEndpointStatus.enabled,
            "livemode": settings.STRIPE_LIVE_MODE,
            "api_version": "",
            # We verify signatures ourselves with the secret from settings; dj-stripe's own
            # validation (which reads the secret from this row) is never called.
            "djstripe_validation_method": WebhookEndpointValidation.verify_signature,
            "djstripe_tolerance": settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        },
    )
    return row


def _process(trigger: WebhookEventTrigger) -> None:
    """Run dj-stripe's processing for a stored trigger; on failure keep the error on the row."""
    api_key = settings.STRIPE_SECRET_KEY
    try:
        with transaction.atomic():
            djstripe_signals.webhook_pre_process.send(sender=WebhookEventTrigger, instance=trigger)
            trigger.process(save=False, api_key=api_key)
            djstripe_signals.webhook_post_process.send(
                sender=WebhookEventTrigger, instance=trigger, api_key=api_key
            )
    except Exception as exc:
        max_length = WebhookEventTrigger._meta.get_field("exception").max_length
        trigger.exception = f"{type(exc).__name__}: {exc}"[:max_length]
        trigger.traceback = format_exc()
        trigger.processed = False
        trigger.event = None
        trigger.save()
        djstripe_signals.webhook_processing_error.send(
            sender=WebhookEventTrigger, instance=trigger, api_key=api_key, exception=exc,
            data=getattr(exc, "http_body", ""),
        )
        logger.exception("Stripe webhook %s (trigger %s) failed", trigger.json_body.get("id"), trigger.pk)
        raise WebhookProcessingFailed() from exc
    trigger.save()


def webhook_receive(*, endpoint: str, payload: bytes, headers, remote_ip: str | None) -> WebhookEventTrigger:
    """Verify one delivery to `endpoint` ("platform" or "connect"), record it, apply it.

    Raises InvalidWebhook (400, nothing written) or WebhookProcessingFailed (500, the trigger
    row kept with its exception). A duplicate delivery is recorded as a trigger and applied
    no further.
    """
    event = webhook_verify(payload=payload, signature=headers.get("Stripe-Signature"),
                           secret=webhook_secret(endpoint))
    if endpoint == CONNECT and not event.get("account"):
        raise InvalidWebhook("A connected-account event must name its account.")
    trigger = WebhookEventTrigger.objects.create(
        remote_ip=remote_ip or "0.0.0.0",
        headers={name: headers[name] for name in KEPT_HEADERS if name in headers},
        body=payload.decode("utf-8"),
        valid=True,
        webhook_endpoint=webhook_endpoint_get(endpoint),
    )
    _process(trigger)
    return trigger


def webhook_replay(*, trigger: WebhookEventTrigger) -> WebhookEventTrigger:
    """Process a stored delivery again (one that failed); a processed event is not re-applied."""
    if not trigger.valid:
        raise InvalidWebhook("This delivery never passed verification.")
    _process(trigger)
    return trigger
