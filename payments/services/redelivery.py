"""Stored deliveries whose task was lost, applied by beat every minute (`webhooks_redeliver`).

`webhook_receive` answers Stripe 200 once a delivery is stored and queued, and Stripe retries
only a delivery it got no 2xx for (https://docs.stripe.com/webhooks#retries), so it will not
send this one again. When its task is lost (the worker SIGKILLed mid-try, Redis restarted
empty, a retry waiting out its back-off in a broker that lost it) nothing else would apply it:
a paid order reads "Awaiting payment" until staff run replay_failed_webhooks. The chaos soak
(bench/chaos.py) found hundreds so. This job does what staff would, sooner.

Which deliveries (`webhook_redelivery_due`): stored valid, not processed, not given up
(FAILED_PREFIX), and left alone for WEBHOOK_REDELIVER_AFTER_SECONDS past the time their task
was due: one never tried (exception "") that long after it was stored; one whose try N failed
(its row says "try N failed: …") that long after the task's own back-off from that try
(`webhook_retry_delay(retries=N - 1)`). So the job does not compete with a task merely waiting
its turn, and a delivery that fails every time keeps the task's back-off: the job's try is try
N + 1, written on the row as the task writes it, and try 1 + WEBHOOK_MAX_RETRIES is the last
whoever makes it (marked FAILED_PREFIX, logged as an error, left for replay_failed_webhooks and
counted by `stubcollector_webhook_deliveries_failed_waiting`).

Applied once: each delivery is claimed in a transaction of its own with
`select_for_update(skip_locked=True)` (PostgreSQL; SQLite has one writer at a time), checked
again under the lock, and applied by `webhook_replay`, the path replay_failed_webhooks takes. A
run that finds the row locked (another run, a second beat) passes over it instead of waiting.
The lock is on the trigger row only, which no request waits on, so holding it over dj-stripe's
call to Stripe blocks no buyer. A worker's late task applying the same delivery at the same
moment is covered one level down: dj-stripe stores an Event once by id (the second insert waits
on the unique key, then takes the stored Event without running the handlers again), and each
handler locks its order and applies what Stripe's object says now. A duplicate delivery of an
event already applied is marked processed and changes nothing.

At most WEBHOOK_REDELIVER_BATCH deliveries a run, oldest first: a backlog drains over a few
ticks rather than in one tick that runs for minutes. /metrics counts the ones due
(`stubcollector_webhook_deliveries_overdue`): above 0 for more than a few minutes, beat is down
or cannot keep up.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from djstripe.models import WebhookEventTrigger

from payments.services import webhooks

logger = logging.getLogger(__name__)

# How _process records a failed try that was not the last: "try 3 failed: APIError: …".
_TRY_FAILED = re.compile(r"try (\d+) failed:")


@dataclass
class RedeliveryReport:
    applied: int = 0    # processed now, or settled without applying (webhook_guards)
    failed: int = 0     # failed again: tried later, on the task's back-off
    given_up: int = 0   # that was its last try: left for replay_failed_webhooks
    skipped: int = 0    # locked by another run, or applied meanwhile, when its turn came


def webhook_redelivery_due(*, now: datetime | None = None) -> QuerySet[WebhookEventTrigger]:
    """The stored deliveries nobody applied, whose task should have run over
    WEBHOOK_REDELIVER_AFTER_SECONDS ago (see the module docstring)."""
    now = now or timezone.now()
    after = timedelta(seconds=settings.WEBHOOK_REDELIVER_AFTER_SECONDS)
    cap = settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS
    quiet = Q(exception="", updated__lte=now - after)
    counted = Q(exception="")
    tries = 1
    # One clause per try whose back-off is under the cap (30 s, 2 min, 8 min, 32 min); every later
    # try waits the cap. Bounded by the tries a delivery gets, whatever the delays are set to.
    while tries <= settings.WEBHOOK_MAX_RETRIES \
            and (delay := webhooks.webhook_retry_delay(retries=tries - 1)) < cap:
        try_failed = Q(exception__startswith=f"try {tries} failed:")
        quiet |= try_failed & Q(updated__lte=now - after - timedelta(seconds=delay))
        counted |= try_failed
        tries += 1
    quiet |= ~counted & Q(updated__lte=now - after - timedelta(seconds=cap))
    return (WebhookEventTrigger.objects.filter(quiet, valid=True, processed=False)
            .exclude(exception__startswith=webhooks.FAILED_PREFIX))


def webhooks_redeliver(*, now: datetime | None = None, batch: int | None = None) -> RedeliveryReport:
    """Apply up to `batch` (WEBHOOK_REDELIVER_BATCH) due deliveries, oldest first, each in a
    transaction of its own; a failure is kept on its row and the run goes on."""
    now = now or timezone.now()
    batch = settings.WEBHOOK_REDELIVER_BATCH if batch is None else batch
    report = RedeliveryReport()
    trigger_ids = list(webhook_redelivery_due(now=now).order_by("pk").values_list("pk", flat=True)[:batch])
    for trigger_id in trigger_ids:
        outcome = _redeliver_one(trigger_id=trigger_id, now=now)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


@transaction.atomic
def _redeliver_one(*, trigger_id: int, now: datetime) -> str:
    # Claim, then check: still due (not applied or given up since the list was read), not locked.
    trigger = (webhook_redelivery_due(now=now).select_for_update(skip_locked=True, of=("self",))
               .filter(pk=trigger_id).first())
    if trigger is None:
        return "skipped"
    match = _TRY_FAILED.match(trigger.exception)
    attempt = (int(match[1]) if match else 0) + 1
    final = attempt > settings.WEBHOOK_MAX_RETRIES  # as the task: tries 1 + WEBHOOK_MAX_RETRIES
    body = trigger.json_body if isinstance(trigger.json_body, dict) else {}
    extra = {"event": "webhook.redelivery", "trigger_id": trigger.pk, "attempt": attempt,
             "stripe_event_id": body.get("id", ""), "type": body.get("type", ""),
             "stored_seconds_ago": round((now - trigger.created).total_seconds())}
    try:
        webhooks.webhook_replay(trigger=trigger, attempt=attempt, final=final)
    except DatabaseError:
        raise  # the database is away or this transaction is spoilt: the next tick starts over
    except webhooks.WebhookProcessingFailed:
        # _process kept the error on the row (saved in this transaction, which commits).
        if final:
            logger.error("Stripe delivery (trigger %s) failed its last try (%s) by redelivery; left for "
                         "replay_failed_webhooks", trigger.pk, attempt,
                         extra={**extra, "outcome": "given_up"})
            return "given_up"
        logger.warning("Stripe delivery (trigger %s) failed again on redelivery (try %s)", trigger.pk,
                       attempt, extra={**extra, "outcome": "failed"})
        return "failed"
    except Exception as exc:  # noqa: BLE001 - one row's error must not stop every run at that row
        # Raised where _process keeps nothing on the row (a row no delivery could have stored,
        # say): kept here, so the row backs off like any failed try instead of coming back
        # first in every run.
        max_length = WebhookEventTrigger._meta.get_field("exception").max_length
        tried = f"{webhooks.FAILED_PREFIX} {attempt} tries" if final else f"try {attempt} failed"
        WebhookEventTrigger.objects.filter(pk=trigger.pk).update(
            exception=f"{tried}: {type(exc).__name__}: {exc}"[:max_length], updated=timezone.now())
        logger.exception("Stripe delivery (trigger %s) raised on redelivery (try %s)", trigger.pk, attempt,
                         extra={**extra, "outcome": "given_up" if final else "failed"})
        return "given_up" if final else "failed"
    logger.warning("Stripe delivery (trigger %s) applied by redelivery (try %s): its task was lost",
                   trigger.pk, attempt, extra={**extra, "outcome": "applied"})
    return "applied"
