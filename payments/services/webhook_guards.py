"""Deliveries that must be answered 2xx and never retried, decided around dj-stripe's processing.

Stripe retries a delivery for three days until it gets a 2xx
(https://docs.stripe.com/webhooks#retries); a delivery that can never succeed must therefore be
recorded and settled, not failed. Only our own failures and Stripe's 5xx/timeouts fail (and so
are retried). Called by payments.services.webhooks._process:

- `webhook_preflight` before dj-stripe touches the event:
  * the other mode's event (a live Connect endpoint also receives test-mode events of connected
    accounts, https://docs.stripe.com/connect/webhooks): recorded, audited, not applied;
  * `account.application.deauthorized`: handled here (seller_disconnect) because dj-stripe's
    processing first reads the account, which Stripe now refuses.
- `webhook_failure_settled` when processing raised: Stripe answering `resource_missing` for the
  object the event names (or refusing the account, 403 `account_invalid`) is settled: recorded,
  audited, 2xx. Everything else is a failure.
- `webhook_trigger_account_set`: dj-stripe's `WebhookEventTrigger.stripe_trigger_account` names
  the connected account of a Connect delivery when dj-stripe has that account mirrored.
"""

from __future__ import annotations

import logging

import stripe
from django.conf import settings
from djstripe.models import Account as DjstripeAccount
from djstripe.models import WebhookEventTrigger

from payments.services.audit import audit_record

logger = logging.getLogger(__name__)

NOT_APPLIED_ACTION = "webhook.not_applied"
NOT_APPLIED_PREFIX = "not applied"
DEAUTHORIZED = "account.application.deauthorized"


def _event(trigger: WebhookEventTrigger) -> dict:
    body = trigger.json_body if trigger.valid else {}
    return body if isinstance(body, dict) else {}


def _settle(trigger: WebhookEventTrigger, *, reason: str, message: str) -> str:
    """Record on the trigger why the event was not applied, audit it, mark it done."""
    event = _event(trigger)
    max_length = WebhookEventTrigger._meta.get_field("exception").max_length
    trigger.exception = f"{NOT_APPLIED_PREFIX}: {reason}: {message}"[:max_length]
    trigger.traceback = ""
    trigger.processed = True
    trigger.event = None
    webhook_trigger_account_set(trigger)
    trigger.save()
    audit_record(
        action=NOT_APPLIED_ACTION, stripe_event_id=str(event.get("id") or ""), message=f"{reason}: {message}",
        data={"reason": reason, "type": event.get("type", ""), "stripe_account": event.get("account") or "",
              "livemode": event.get("livemode"), "trigger_id": trigger.pk},
    )
    logger.warning("Stripe event %s (%s) not applied: %s", event.get("id"), event.get("type"), reason)
    return reason


def webhook_preflight(*, trigger: WebhookEventTrigger) -> str | None:
    """An outcome when the delivery is settled without dj-stripe's processing, else None."""
    from payments.services.connect.disconnect import seller_disconnect

    event = _event(trigger)
    livemode = event.get("livemode")
    if isinstance(livemode, bool) and livemode != bool(settings.STRIPE_LIVE_MODE):
        mode = "live" if livemode else "test"
        return _settle(trigger, reason="livemode_mismatch",
                       message=f"a {mode}-mode event on a {'live' if settings.STRIPE_LIVE_MODE else 'test'} "
                               "endpoint")
    if event.get("type") == DEAUTHORIZED and event.get("account"):
        seller_disconnect(account_id=str(event["account"]), stripe_event_id=str(event.get("id") or ""))
        trigger.exception = ""
        trigger.traceback = ""
        trigger.processed = True
        webhook_trigger_account_set(trigger)
        trigger.save()
        return "processed"
    return None


def _stripe_errors(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, stripe.StripeError):
            yield exc
        exc = exc.__cause__ or exc.__context__


def _error_code(error: stripe.StripeError) -> str:
    body = error.json_body if isinstance(error.json_body, dict) else {}
    return str(error.code or (body.get("error") or {}).get("code") or "")


def webhook_failure_settled(*, trigger: WebhookEventTrigger, exc: BaseException) -> str | None:
    """The reason when a processing error is Stripe's final word on the event, else None."""
    for error in _stripe_errors(exc):
        if isinstance(error, stripe.InvalidRequestError) and _error_code(error) == "resource_missing":
            return _settle(trigger, reason="resource_missing", message=str(error.user_message or error)[:300])
        if isinstance(error, stripe.PermissionError) and _error_code(error) == "account_invalid" \
                and _event(trigger).get("account"):
            return _settle(trigger, reason="account_unreadable",
                           message=str(error.user_message or error)[:300])
    return None


def webhook_trigger_account_set(trigger: WebhookEventTrigger) -> None:
    """Name the Connect delivery's account on the trigger, when dj-stripe has that account."""
    account_id = str(_event(trigger).get("account") or "")
    if account_id and trigger.stripe_trigger_account_id != account_id \
            and DjstripeAccount.objects.filter(id=account_id).exists():
        trigger.stripe_trigger_account_id = account_id
