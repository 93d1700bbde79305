"""The Celery app: background work (webhook processing, emails, Stripe clean-ups) and beat.

`CELERY_BROKER_URL=redis://…` sends tasks to Redis for `celery -A stubcollector worker` (and
`beat` for the schedule below). With no broker configured, `CELERY_TASK_ALWAYS_EAGER` is on:
`core.queue.enqueue_on_commit` then runs the task in-process right after the commit, so `make run` and the
tests need no extra server.

The request id of the HTTP request (or task) that queues a task travels in the message headers
and is set again while the task runs, so its log lines carry the same id.
"""

import gc
import os

from celery import Celery, signals
from celery.schedules import crontab

from core.logs import request_id_get, request_id_set

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stubcollector.settings")

app = Celery("stubcollector")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Or cron `15 4 * * * manage.py reconcile_stripe` (docs/operations.md, "Reconciliation with Stripe").
    "reconcile-stripe": {
        "task": "reconciliation.tasks.reconcile_stripe",
        "schedule": crontab(hour=4, minute=15),
    },
    # Replaces the cron line `* * * * * manage.py release_expired_reservations` (still valid).
    "release-expired-reservations": {
        "task": "payments.tasks.release_expired_reservations",
        "schedule": crontab(minute="*"),
    },
    # Stored Stripe deliveries whose task was lost; replay_failed_webhooks by hand still works.
    # A tick still queued after 50 s (workers down) is dropped: the next one does its work.
    "redeliver-lost-webhooks": {
        "task": "payments.tasks.redeliver_lost_webhooks",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Refund rows committed whose Stripe call never got an answer (a process or the database
    # went away between the two, or Stripe answered 5xx). A tick still queued after 4 minutes
    # is dropped: the next one does its work.
    "send-unsent-refunds": {
        "task": "payments.tasks.send_unsent_refunds",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    # Stub and problem-report photos whose task was lost, queued again (marketplace/photos.py).
    # A tick still queued after 50 s (workers down) is dropped: the next one does its work.
    "requeue-lost-photos": {
        "task": "marketplace.tasks.requeue_lost_photos",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    "requeue-lost-problem-photos": {
        "task": "problems.requeue_lost_photos",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Replaces the cron line `0 * * * * manage.py send_dispute_reminders` (still valid).
    "send-dispute-reminders": {
        "task": "payments.tasks.send_dispute_reminders",
        "schedule": crontab(minute=0),
    },
    # Or cron `30 * * * * manage.py refresh_seller_balances`.
    "refresh-seller-balances": {
        "task": "payments.tasks.refresh_seller_balances",
        "schedule": crontab(minute=30),
    },
    # Or cron `0 8 * * * manage.py send_saved_search_digests`.
    "send-saved-search-digests": {
        "task": "payments.tasks.send_saved_search_digests",
        "schedule": crontab(hour=8, minute=0),
    },
    # Message emails held back by the batching window (messaging/services.py).
    "send-due-message-emails": {
        "task": "messaging.send_due_message_emails",
        "schedule": crontab(minute="*"),
    },
    # Problem reports whose seller did not answer go to Support; unescalated answers close.
    "apply-problem-deadlines": {
        "task": "problems.apply_deadlines",
        "schedule": crontab(minute="*/15"),
    },
    # Offers not answered in time, accepted offers whose hold ended unpaid (offers/services.py).
    "expire-offers": {
        "task": "offers.expire_offers",
        "schedule": crontab(minute="*"),
    },
}


@signals.before_task_publish.connect
def _carry_request_id(headers=None, **kwargs):
    request_id = request_id_get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


@signals.task_prerun.connect
def _restore_request_id(task=None, **kwargs):
    request = getattr(task, "request", None)
    carried = getattr(request, "request_id", None) if request is not None else None
    if carried:
        request_id_set(carried)
    elif request is not None and not request.is_eager:
        request_id_set(f"task-{request.id}")


@signals.task_postrun.connect
def _forget_request_id(task=None, **kwargs):
    request = getattr(task, "request", None)
    if request is not None and not request.is_eager:
        request_id_set("")


@signals.worker_process_init.connect
def _freeze_what_the_pool_process_loaded(**kwargs):
    """A pool process keeps Django and the apps alive as long as it lives: out of the cyclic
    collector's scans, a full collection no longer walks them on whichever task triggers it
    (gunicorn.conf.py's post_worker_init does the same for the web workers)."""
    gc.collect()
    gc.freeze()
