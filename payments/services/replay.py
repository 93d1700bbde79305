"""Catching up with Stripe: apply the events we never received (`replay_stripe_events`).

Webhooks can be missed (an endpoint down for longer than Stripe's three days of retries, a
secret rotated wrongly, an event type not enabled). Stripe keeps 30 days of events: this lists
them from the platform account and from each seller's connected account, and hands every event
of a type we handle that dj-stripe has not recorded to the webhook pipeline as if it had just
been delivered (a WebhookEventTrigger marked as a replay, then the same processing). dj-stripe
records each Event once by id, and our handlers re-read Stripe's current objects under row
locks, so a second run (or a late real delivery) applies nothing twice.

A seller's account that left the platform can no longer be read: Stripe answers 403
`account_invalid` to anything sent with its Stripe-Account header, its event list included
(https://docs.stripe.com/connect/authentication, docs/sandbox.md). Such an account is skipped
and reported, and the run goes on with the others. Its `account.application.deauthorized` event
is replayed when Stripe still lists it; when it cannot be listed, the refusal itself is Stripe's
word that the account left, so the seller is disconnected all the same
(`payments.signals.stripe_account_deauthorized`, idempotent), as the lost delivery would have
done.
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

import stripe
from djstripe.models import Event, WebhookEventTrigger

from accounts.models import User
from payments import stripe_api
from payments.services.webhook_guards import DEAUTHORIZED, account_deauthorized_send
from payments.services.webhooks import (
    CONNECT,
    HANDLERS,
    PLATFORM,
    WebhookProcessingFailed,
    webhook_endpoint_get,
    webhook_process,
)

logger = logging.getLogger(__name__)

REPLAY_HEADER = "X-Replayed-By"

def replayed_types() -> frozenset[str]:
    """Everything a delivery to our endpoints would apply: the handlers (read when asked, as the
    apps above payments register theirs in their ready()), and the deauthorization handled before
    dj-stripe (payments.services.webhook_guards)."""
    return frozenset({*HANDLERS, DEAUTHORIZED})


@dataclass
class ReplayReport:
    listed: int = 0
    applied: list[str] = field(default_factory=list)
    already: int = 0
    not_handled: int = 0
    failed: list[str] = field(default_factory=list)
    # Connected accounts Stripe no longer lets us read (they left the platform): skipped.
    unreadable: list[str] = field(default_factory=list)


def _events(*, since: datetime, stripe_account: str | None):
    page = stripe_api.stripe_call(
        "event.list",
        stripe.Event.list,
        stripe_account=stripe_account,
        created={"gte": int(since.timestamp())},
        limit=100,
    )
    # Stripe lists newest first; apply oldest first, as they happened.
    events = (event.to_dict() for event in page.auto_paging_iter())
    return sorted(events, key=lambda event: (event["created"], event["id"]))


def stripe_events_replay(*, since: datetime, dry_run: bool = False) -> ReplayReport:
    report = ReplayReport()
    accounts = [
        None,
        *User.objects.exclude(stripe_account_id="")
        .order_by("pk")
        .values_list("stripe_account_id", flat=True),
    ]
    handled = replayed_types()
    for account in accounts:
        try:
            events = _events(since=since, stripe_account=account)
        except stripe_api.StripeRefused as error:
            if not account or error.stripe_code != "account_invalid":
                raise
            _account_unreadable(account=account, report=report, dry_run=dry_run)
            continue
        for event in events:
            report.listed += 1
            if event["type"] not in handled:
                report.not_handled += 1
                continue
            if Event.objects.filter(id=event["id"]).exists():
                report.already += 1
                continue
            if dry_run:
                report.applied.append(event["id"])
                continue
            _apply(event=_owned(event, account), report=report)
    return report


def _owned(event: dict, account: str | None) -> dict:
    if account and not event.get("account"):
        event["account"] = account  # listed with Stripe-Account: it is that account's event
    return event


def stripe_events_missed(*, since: datetime, stripe_account: str | None, object_id: str) -> list[dict]:
    """The events about one object (`data.object.id`) since a date, of a type we handle, that
    dj-stripe never recorded, oldest first: what a reconciliation's "apply the missed event"
    hands to `stripe_event_apply`."""
    handled = replayed_types()
    return [
        _owned(event, stripe_account)
        for event in _events(since=since, stripe_account=stripe_account)
        if event["type"] in handled
        and ((event.get("data") or {}).get("object") or {}).get("id") == object_id
        and not Event.objects.filter(id=event["id"]).exists()
    ]


def stripe_event_apply(*, event: dict) -> bool:
    """Apply one listed event as if it had just been delivered; False when processing failed
    (its delivery keeps the error, in admin's Webhook deliveries)."""
    report = ReplayReport()
    _apply(event=event, report=report)
    return not report.failed


def _account_unreadable(*, account: str, report: ReplayReport, dry_run: bool) -> None:
    report.unreadable.append(account)
    logger.warning("Replay: Stripe refuses to read %s (account_invalid); skipped", account)
    if not dry_run:
        account_deauthorized_send(account_id=account)


def _apply(*, event: dict, report: ReplayReport) -> None:
    trigger = WebhookEventTrigger.objects.create(
        remote_ip="127.0.0.1",
        headers={REPLAY_HEADER: "replay_stripe_events"},
        body=json.dumps(event),
        valid=True,
        webhook_endpoint=webhook_endpoint_get(CONNECT if event.get("account") else PLATFORM),
    )
    try:
        outcome = webhook_process(trigger_id=trigger.pk)
    except WebhookProcessingFailed:
        report.failed.append(event["id"])
        logger.warning(
            "Replaying %s (%s) failed; trigger %s keeps the error", event["id"], event["type"], trigger.pk
        )
        return
    if outcome == "processed":
        report.applied.append(event["id"])
