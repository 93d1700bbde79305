"""Stripe webhooks: verify, record once through dj-stripe, dispatch to our handlers.

The flow for one delivery (`webhook_receive`):

1. Verify `Stripe-Signature` over the raw body with the endpoint's own secret and a 300 s
   tolerance. Anything wrong is a 400 and writes nothing.
2. Record the delivery as a dj-stripe `WebhookEventTrigger` (raw body, headers, our trusted
   client address), committed, and queue its processing (`payments.tasks.webhook_process`,
   through core.queue); the view answers 200 without waiting for it. With no broker configured
   the task runs in-process at once (eager mode), as it always did. A broker that refuses the
   task (Redis away) loses it, logged; the stored delivery is applied by beat's redelivery job.
3. A worker processes it (`webhook_process`): `djstripe.models.Event.process` stores the Event
   once by id (a duplicate id returns the stored Event without running handlers again),
   re-fetches the object the event names, mirrors it, and sends
   `djstripe.signals.WEBHOOK_SIGNALS[type]`.
4. Our receiver (`webhook_dispatch`) looks the type up in `HANDLERS`; each handler locks the
   order row and applies what Stripe's current object says, so a late or repeated event is
   old news and changes nothing.

The Event insert and every handler write share one transaction: a handler's exception rolls
all of it back (the Event is not stored, so a later try processes it again) and the trigger row
keeps the exception and traceback. Stripe does not retry a delivery we answered 200, so the
task retries with back-off (`WEBHOOK_MAX_RETRIES`); after the last try the row's exception
starts with "failed after" (`FAILED_PREFIX`): visible in admin, counted by /metrics
(`stubcollector_webhook_deliveries_failed_waiting`), replayed by `replay_failed_webhooks`.
A delivery whose task was lost (a worker killed, Redis restarted empty) is picked up where its
task left off by a beat job (payments.services.redelivery).
"""

import logging
import time
from traceback import format_exc

import stripe
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from djstripe import signals as djstripe_signals
from djstripe.enums import WebhookEndpointStatus, WebhookEndpointValidation
from djstripe.models import Event, WebhookEndpoint, WebhookEventTrigger

from core import monitoring
from core.errors import DomainError
from core.json_depth import JSONTooDeep, json_loads_bounded
from core.queue import enqueue_on_commit, task_by_name
from core.site import absolute_url
from payments.services import fraud_warnings, payment_events, webhook_guards

logger = logging.getLogger(__name__)

PLATFORM = "platform"
CONNECT = "connect"

# Our two endpoints, as dj-stripe WebhookEndpoint rows (made on first use). The signing secrets
# come from settings; each row carries a copy, kept in step with settings (here and after every
# migrate), because dj-stripe's model and its check (djstripe.W005) expect the row to hold it.
ENDPOINTS = {
    PLATFORM: {"id": "we_stubcollector_platform", "secret_setting": "STRIPE_WEBHOOK_SECRET",
               "path": "/payments/webhook/"},
    CONNECT: {"id": "we_stubcollector_connect", "secret_setting": "STRIPE_CONNECT_WEBHOOK_SECRET",
              "path": "/payments/webhook/connect/"},
}

# Headers worth keeping with a delivery (for replay and debugging); never cookies or auth.
KEPT_HEADERS = ("Content-Type", "Stripe-Signature", "User-Agent", "X-Forwarded-For", "X-Request-Id")

# A delivery whose last try failed: its trigger's `exception` starts with this.
FAILED_PREFIX = "failed after"

# The task that applies a stored delivery (payments.tasks), by name: it builds on this module.
WEBHOOK_PROCESS_TASK = "payments.tasks.webhook_process"
delivery_logger = logging.getLogger("stubcollector.webhooks")


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
#
# Event type → the handlers that apply it, in the order they were registered. Payments registers
# its own (PAYMENT_HANDLERS) from PaymentsConfig.ready(); the apps above payments register theirs
# from their own ready() through `webhook_handlers_register`, so payments never imports them.
# docs/architecture.md (the webhook pipeline) lists who handles what.
HANDLERS: dict[str, list] = {}

# (event type, handler) pairs whose failure must not fail the delivery: the event's own change
# stands and a later pass catches up (e.g. a seller's balance re-read after a refund).
_BEST_EFFORT: set[tuple] = set()


def webhook_handlers_register(handlers: dict, *, best_effort: bool = False) -> None:
    """Add `handlers` ({event type: handler(*, event)}) to the dispatch table and hook
    `webhook_dispatch` to dj-stripe's signal for each type. Registering twice changes nothing.
    dj-stripe's own receivers were connected first, so by the time ours run the object is mirrored."""
    for event_type, handler in handlers.items():
        registered = HANDLERS.setdefault(event_type, [])
        if handler not in registered:
            registered.append(handler)
        if best_effort:
            _BEST_EFFORT.add((event_type, handler))
        djstripe_signals.WEBHOOK_SIGNALS[event_type].connect(
            webhook_dispatch, sender=Event, dispatch_uid=f"payments.webhooks:{event_type}"
        )


def webhook_dispatch(sender, event: Event, **kwargs) -> None:
    """Receiver for dj-stripe's per-type signals: run every handler registered for the type."""
    for handler in HANDLERS.get(event.type, ()):
        if (event.type, handler) not in _BEST_EFFORT:
            handler(event=event)
            continue
        try:
            handler(event=event)
        except DomainError:
            logger.warning("Best-effort handler %s failed on %s %s",
                           getattr(handler, "__name__", handler), event.type, event.id)


PAYMENT_HANDLERS = {
    "payment_intent.succeeded": payment_events.payment_intent_event_apply,
    "payment_intent.payment_failed": payment_events.payment_intent_event_apply,
    "payment_intent.canceled": payment_events.payment_intent_event_apply,
    "charge.refunded": payment_events.charge_refunded_apply,
    # A refund's later fate (pending → succeeded, succeeded → failed): Stripe sends
    # charge.refund.updated, and refund.updated / refund.failed on newer API versions.
    "charge.refund.updated": payment_events.charge_refunded_apply,
    "refund.updated": payment_events.charge_refunded_apply,
    "refund.failed": payment_events.charge_refunded_apply,
    # Radar's early fraud warnings on the sellers' direct charges (payments/services/fraud_warnings.py).
    "radar.early_fraud_warning.created": fraud_warnings.fraud_warning_event_apply,
    "radar.early_fraud_warning.updated": fraud_warnings.fraud_warning_event_apply,
}


def webhooks_connect_signals() -> None:
    """Payments' own handlers (PaymentsConfig.ready)."""
    webhook_handlers_register(PAYMENT_HANDLERS)


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
    # stripe-python refuses only timestamps older than the tolerance; one dated ahead of our
    # clock by more than a small skew is refused too, or a signed body would stay replayable.
    if _signed_at(signature) > time.time() + settings.STRIPE_WEBHOOK_FUTURE_SKEW_SECONDS:
        raise InvalidWebhook("The Stripe-Signature timestamp is in the future.")
    try:
        data = json_loads_bounded(text)
    except JSONTooDeep:
        raise InvalidWebhook(f"The body is nested deeper than {settings.JSON_MAX_DEPTH} levels.") from None
    except ValueError:
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


def _signed_at(signature: str) -> int:
    """The `t=` timestamp of a header verify_header accepted, read as stripe-python reads it
    (the first `t` item), so the one checked here is the one the signature covers."""
    return int(next(item.split("=", 2)[1] for item in signature.split(",") if item.split("=", 2)[0] == "t"))


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
    secret = getattr(settings, spec["secret_setting"])
    row, _ = WebhookEndpoint.objects.get_or_create(
        id=spec["id"],
        defaults={
            "secret": secret,
            "url": absolute_url(spec["path"]),
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
    if row.secret != secret:  # the secret was rotated, or the row predates carrying it
        WebhookEndpoint.objects.filter(pk=row.pk).update(secret=secret)
        row.secret = secret
    return row


def webhook_endpoints_sync_secrets(**kwargs) -> int:
    """Bring the secret on our existing endpoint rows in step with settings (post_migrate, so a
    release's `check --deploy` sees them right). Returns how many rows changed."""
    changed = 0
    for spec in ENDPOINTS.values():
        secret = getattr(settings, spec["secret_setting"])
        changed += WebhookEndpoint.objects.filter(id=spec["id"]).exclude(secret=secret).update(secret=secret)
    return changed


def _process(trigger: WebhookEventTrigger, *, attempt: int = 1, final: bool = True) -> str | None:
    """Run dj-stripe's processing for a stored trigger; on failure keep the error on the row
    (prefixed with FAILED_PREFIX when this was the last try). A delivery that can never apply
    (the other mode's event, an account we do not know, Stripe's resource_missing for the
    event's object) is settled by payments.services.webhook_guards instead: recorded, audited,
    not retried; the reason is returned (None when the event was applied)."""
    api_key = settings.STRIPE_SECRET_KEY
    try:
        # Inside the try: a failure there (the database, say) is kept and retried like any other.
        settled = webhook_guards.webhook_preflight(trigger=trigger)
        if settled:
            return None if settled == "processed" else settled
        with transaction.atomic():
            djstripe_signals.webhook_pre_process.send(sender=WebhookEventTrigger, instance=trigger)
            trigger.process(save=False, api_key=api_key)
            djstripe_signals.webhook_post_process.send(
                sender=WebhookEventTrigger, instance=trigger, api_key=api_key
            )
    except Exception as exc:
        reason = webhook_guards.webhook_failure_settled(trigger=trigger, exc=exc)
        if reason:
            return reason
        max_length = WebhookEventTrigger._meta.get_field("exception").max_length
        tried = f"{FAILED_PREFIX} {attempt} tries" if final else f"try {attempt} failed"
        trigger.exception = f"{tried}: {type(exc).__name__}: {exc}"[:max_length]
        trigger.traceback = format_exc()
        trigger.processed = False
        trigger.event = None
        trigger.save()
        djstripe_signals.webhook_processing_error.send(
            sender=WebhookEventTrigger, instance=trigger, api_key=api_key, exception=exc,
            data=getattr(exc, "http_body", ""),
        )
        logger.warning("Stripe webhook %s (trigger %s) failed (try %s)", trigger.json_body.get("id"),
                       trigger.pk, attempt, exc_info=True)
        raise WebhookProcessingFailed() from exc
    webhook_guards.webhook_trigger_account_set(trigger)
    trigger.save()
    return None


def webhook_receive(*, endpoint: str, payload: bytes, headers, remote_ip: str | None) -> WebhookEventTrigger:
    """Verify one delivery to `endpoint` ("platform" or "connect"), record it, queue it.

    Raises InvalidWebhook (400, nothing written). Call it outside a transaction (the view is
    `non_atomic_requests`): the trigger row is committed before a worker is told about it. A
    duplicate delivery is recorded as a trigger and applied no further.
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
    webhook_process_enqueue(trigger=trigger)
    return trigger


def webhook_process_enqueue(*, trigger: WebhookEventTrigger) -> None:
    """Hand a stored delivery to a worker, once the trigger row has committed (at once in the
    view, which runs outside a transaction).

    A broker that cannot take the task (Redis away) does not fail the delivery: the row is
    stored, so core.queue logs the task as lost (`task.not_queued`, with the trigger id) and the
    view answers 200 as for any stored delivery. Beat's redelivery job applies it
    WEBHOOK_REDELIVER_AFTER_SECONDS after it was stored (payments.services.redelivery), as it
    does a delivery whose task a worker lost. Answering 500 instead would have Stripe send it
    again, each time storing one more row while the broker is still away.

    With no broker (eager mode) the task runs in this process; inside a transaction (a test's,
    never the view's) at once, as before, since nothing else would run it there.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER and connection.in_atomic_block:
        task_by_name(WEBHOOK_PROCESS_TASK).apply_async(kwargs={"trigger_id": trigger.pk})
        return
    enqueue_on_commit(WEBHOOK_PROCESS_TASK, trigger_id=trigger.pk)


def webhook_retry_delay(*, retries: int) -> int:
    """Seconds before try `retries + 2`: 30 s, 2 min, 8 min, 32 min, then every
    WEBHOOK_RETRY_MAX_DELAY_SECONDS (45 min). The cap stays under the broker's visibility
    timeout: Redis hands a message held longer than that to another worker, so a longer
    countdown would run the task twice. WEBHOOK_MAX_RETRIES such tries reach past Stripe's own
    three days of retries (https://docs.stripe.com/webhooks#retries) before a delivery is left
    for replay_failed_webhooks."""
    return min(30 * 4**retries, settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS)


def webhook_process(*, trigger_id: int, attempt: int = 1, final: bool = True) -> str:
    """One try at a stored delivery (the worker's side). Returns the outcome: "processed",
    "not_applied" (settled without applying, counted by reason), "done_before" (an earlier try
    or a replay applied it), "missing"; raises
    WebhookProcessingFailed when it failed (the caller retries unless `final`).

    Writes one `webhook.delivery` log line (id, type, account, outcome, duration) and the metrics.
    """
    trigger = WebhookEventTrigger.objects.select_related("webhook_endpoint").filter(pk=trigger_id).first()
    if trigger is None:
        return "missing"
    body = trigger.json_body if trigger.valid else {}
    event_type = body.get("type", "") if isinstance(body, dict) else ""
    if trigger.processed:
        return "done_before"
    if attempt == 1:
        monitoring.WEBHOOK_QUEUE_DELAY.labels(type=event_type).observe(
            max(0.0, (timezone.now() - trigger.created).total_seconds()))
    started = time.perf_counter()
    outcome = "processed"
    try:
        not_applied = _process(trigger, attempt=attempt, final=final)
        if not_applied:
            outcome = "not_applied"
            monitoring.WEBHOOK_NOT_APPLIED.labels(type=event_type, reason=not_applied).inc()
    except WebhookProcessingFailed:
        outcome = "failed" if final else "retrying"
        raise
    finally:
        took = time.perf_counter() - started
        monitoring.WEBHOOK_PROCESSING.labels(type=event_type).observe(took)
        monitoring.WEBHOOK_DELIVERIES.labels(type=event_type, outcome=outcome).inc()
        delivery_logger.log(
            logging.INFO if outcome == "processed" else logging.WARNING,
            "webhook %s %s %s", body.get("id", ""), event_type, outcome,
            extra={"event": "webhook.delivery", "stripe_event_id": body.get("id", ""),
                   "type": event_type, "account": body.get("account") or "",
                   "endpoint": trigger.webhook_endpoint_id or "", "trigger_id": trigger.pk,
                   "attempt": attempt, "outcome": outcome, "duration_ms": round(took * 1000, 1)},
        )
    return outcome


def webhook_deliveries_counts() -> dict:
    """Stored deliveries not applied yet: `failed` (gave up, waiting for a replay) and
    `unprocessed` (queued or between tries)."""
    waiting = WebhookEventTrigger.objects.filter(valid=True, processed=False)
    failed = waiting.filter(exception__startswith=FAILED_PREFIX).count()
    return {"failed": failed, "unprocessed": waiting.count() - failed}


def webhook_replay(*, trigger: WebhookEventTrigger, attempt: int = 1,
                   final: bool = True) -> WebhookEventTrigger:
    """Process a stored delivery again (one that failed, or whose task was lost); a processed
    event is not re-applied. Staff's replay_failed_webhooks makes it the last try (a failure is
    marked FAILED_PREFIX again); the beat job (payments.services.redelivery) passes the
    delivery's own try number and `final` only for its last one."""
    if not trigger.valid:
        raise InvalidWebhook("This delivery never passed verification.")
    _process(trigger, attempt=attempt, final=final)
    return trigger
