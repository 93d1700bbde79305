"""Deliveries that must be answered 2xx and never retried, decided around dj-stripe's processing.

Stripe retries a delivery for three days until it gets a 2xx
(https://docs.stripe.com/webhooks#retries); a delivery that can never succeed must therefore be
recorded and settled, not failed. Only our own failures and Stripe's 5xx/timeouts fail (and so
are retried). Called by payments.services.webhooks._process:

- `webhook_preflight` before dj-stripe touches the event:
  * the other mode's event (a live Connect endpoint also receives test-mode events of connected
    accounts, https://docs.stripe.com/connect/webhooks): recorded, audited, not applied;
  * a connected account's event for an account no seller and no order of ours has
    (`unknown_account`; `account.updated` excepted: it may link a seller's new account);
  * `account.application.deauthorized`: handled here (`payments.signals.stripe_account_deauthorized`,
    which Connect answers by disconnecting the seller) because dj-stripe's processing first reads
    the account, which Stripe now refuses.
- `webhook_failure_settled` when processing raised: Stripe answering `resource_missing` for the
  event's own object (`data.object.id`; a missing related object is a failure to retry), or
  refusing the event's account (403 `account_invalid`, or 404 for the account itself), is
  settled: recorded, audited, 2xx. Everything else is a failure.

Each settled delivery's reason (NOT_APPLIED_REASONS) is on its trigger (`exception` starts
"not applied: <reason>:"), in admin (Webhook deliveries, filter by outcome) and counted in
/metrics (`stubcollector_webhook_deliveries_not_applied_total{type,reason}`).
- `webhook_trigger_account_set`: dj-stripe's `WebhookEventTrigger.stripe_trigger_account` names
  the connected account of a Connect delivery when dj-stripe has that account mirrored.
"""

from __future__ import annotations

import logging
import re

import stripe
from django.conf import settings
from djstripe.models import Account as DjstripeAccount
from djstripe.models import WebhookEventTrigger

from accounts.models import User
from payments.models import Order
from payments.services.audit import audit_record
from payments.signals import stripe_account_deauthorized

logger = logging.getLogger(__name__)

NOT_APPLIED_ACTION = "webhook.not_applied"
NOT_APPLIED_PREFIX = "not applied"
DEAUTHORIZED = "account.application.deauthorized"
LIVEMODE_MISMATCH, UNKNOWN_ACCOUNT = "livemode_mismatch", "unknown_account"
RESOURCE_MISSING, ACCOUNT_UNREADABLE = "resource_missing", "account_unreadable"
NOT_APPLIED_REASONS = (LIVEMODE_MISMATCH, UNKNOWN_ACCOUNT, RESOURCE_MISSING, ACCOUNT_UNREADABLE)
# Stripe names the object it does not have: "No such payment_intent: 'pi_123'"
# (https://docs.stripe.com/error-codes/resource-missing).
_MISSING_ID = re.compile(r"No such [\w ]+: '([^']+)'")


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
        # The event's fields as text (its livemode only when a boolean): a signed body may still hold
        # any JSON there, and a number such as 1e400 reads as infinity, which no JSON column stores.
        data={"reason": reason, "type": str(event.get("type") or ""),
              "stripe_account": str(event.get("account") or ""),
              "livemode": livemode if isinstance(livemode := event.get("livemode"), bool) else None,
              "trigger_id": trigger.pk},
    )
    logger.warning("Stripe event %s (%s) not applied: %s", event.get("id"), event.get("type"), reason)
    return reason


def _account_known(account_id: str) -> bool:
    return User.objects.filter(stripe_account_id=account_id).exists() \
        or Order.objects.filter(stripe_account_id=account_id).exists()


def account_deauthorized_send(*, account_id: str, stripe_event_id: str = ""):
    """Tell the apps above payments that `account_id` left the platform; the seller a receiver
    disconnected, or None when no receiver had one. A receiver's failure fails the delivery."""
    answers = stripe_account_deauthorized.send(sender=None, account_id=account_id,
                                               stripe_event_id=stripe_event_id)
    return next((seller for _receiver, seller in answers if seller is not None), None)


def webhook_preflight(*, trigger: WebhookEventTrigger) -> str | None:
    """An outcome when the delivery is settled without dj-stripe's processing ("processed", or
    the reason it was not applied), else None."""
    event = _event(trigger)
    livemode = event.get("livemode")
    if isinstance(livemode, bool) and livemode != bool(settings.STRIPE_LIVE_MODE):
        mode = "live" if livemode else "test"
        return _settle(trigger, reason=LIVEMODE_MISMATCH,
                       message=f"a {mode}-mode event on a {'live' if settings.STRIPE_LIVE_MODE else 'test'} "
                               "endpoint")
    account_id = str(event.get("account") or "")
    if account_id and event.get("type") not in (DEAUTHORIZED, "account.updated") \
            and not _account_known(account_id):
        return _settle(trigger, reason=UNKNOWN_ACCOUNT,
                       message=f"{account_id} is the account of no seller and no order here")
    if event.get("type") == DEAUTHORIZED and account_id:
        seller = account_deauthorized_send(account_id=account_id, stripe_event_id=str(event.get("id") or ""))
        if seller is None:
            return _settle(trigger, reason=UNKNOWN_ACCOUNT,
                           message=f"{account_id} left the platform; no seller here had it")
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


def _missing_id(error: stripe.StripeError) -> str:
    match = _MISSING_ID.search(str(error.user_message or ""))
    return match[1] if match else ""


def webhook_failure_settled(*, trigger: WebhookEventTrigger, exc: BaseException) -> str | None:
    """The reason when a processing error is Stripe's final word on the event, else None.

    `resource_missing` is final only for the event's own object (it was deleted, or is no
    longer ours to see: nothing to apply) or for the event's connected account (it left the
    platform, as 403 `account_invalid` says). Any other missing object (the charge of a
    dispute, the PaymentIntent of a charge) is a failure, retried like Stripe's 5xx."""
    event = _event(trigger)
    obj = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
    own = str(obj.get("id") or "") if isinstance(obj, dict) else ""
    for error in _stripe_errors(exc):
        if isinstance(error, stripe.InvalidRequestError) and _error_code(error) == "resource_missing":
            missing = _missing_id(error)
            if own and missing == own:
                return _settle(trigger, reason=RESOURCE_MISSING,
                               message=str(error.user_message or error)[:300])
            if missing and missing == event.get("account"):  # the account left the platform
                return _settle(trigger, reason=ACCOUNT_UNREADABLE,
                               message=str(error.user_message or error)[:300])
            return None
        if isinstance(error, stripe.PermissionError) and _error_code(error) == "account_invalid" \
                and event.get("account"):
            return _settle(trigger, reason=ACCOUNT_UNREADABLE,
                           message=str(error.user_message or error)[:300])
    return None


def webhook_trigger_account_set(trigger: WebhookEventTrigger) -> None:
    """Name the Connect delivery's account on the trigger, when dj-stripe has that account."""
    account_id = str(_event(trigger).get("account") or "")
    if account_id and trigger.stripe_trigger_account_id != account_id \
            and DjstripeAccount.objects.filter(id=account_id).exists():
        trigger.stripe_trigger_account_id = account_id
