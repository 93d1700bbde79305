"""Background work of the marketplace app (Celery tasks; see stubcollector/celery.py).

Each task is a thin shell around a service of this app. The services queue them by name
(core.queue.enqueue_on_commit), so this module imports them and not the other way round;
MarketplaceConfig.ready() imports this module so the names are registered in every process.
The watchlist's tasks keep the names they were registered under when payments ran them
(`payments.tasks.<name>`): beat's schedule and messages already queued name them so.
"""

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from core.storage import StorageUnavailable
from marketplace.photos import PHOTO_TASK, stub_photo_fail, stub_photo_process, stub_photos_requeue_lost
from marketplace.watchlist import (
    WATCH_PRICE_DROPS_TASK,
    WATCH_RESERVED_TASK,
    saved_search_digests_send,
    watch_price_drops_notify,
    watch_reserved_notify,
)

logger = logging.getLogger(__name__)


# What the photo tasks (this one and problems') try again, 5 s after the first failure and twice
# as long each time, about 2.5 minutes in all: the storage or the database away (a restart, a
# failover), which says nothing about the file.
PHOTO_TASK_RETRIED_FOR = (StorageUnavailable, OperationalError, InterfaceError)
PHOTO_TASK_RETRIES = 5
DATABASE_AWAY = (OperationalError, InterfaceError)


class PhotoTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """A failure the task could not handle itself, the hard time limit above all (the worker
        kills the process stuck in Pillow and calls this in its parent): the photo is marked
        failed instead of showing as processing for ever. Not when the database was still away
        after the retries: the photo is not at fault, and beat's sweep queues it again
        (marketplace.photos.stub_photos_requeue_lost)."""
        logger.error("Photo upload %s failed: %r", kwargs.get("upload_name"), exc)
        if kwargs.get("upload_name") and not isinstance(exc, DATABASE_AWAY):
            stub_photo_fail(upload_name=kwargs["upload_name"])


@shared_task(base=PhotoTask, acks_late=True, name=PHOTO_TASK,
             autoretry_for=PHOTO_TASK_RETRIED_FOR, max_retries=PHOTO_TASK_RETRIES,
             retry_backoff=5, retry_jitter=False,
             soft_time_limit=settings.PHOTO_TASK_SOFT_TIME_LIMIT, time_limit=settings.PHOTO_TASK_TIME_LIMIT)
def stub_photo_process_task(*, upload_name: str) -> str:
    """Decode one kept upload and publish its photo and thumbnail (marketplace.photos). Not
    retried for the file's sake: a file that is too slow or unreadable once stays so; only a
    storage or a database that could not be reached is tried again. Past the soft time limit the photo is
    marked failed; the hard limit replaces a worker stuck inside Pillow (PhotoTask)."""
    try:
        return stub_photo_process(upload_name=upload_name)
    except SoftTimeLimitExceeded:
        logger.warning("Photo upload %s took longer than %s s; marked failed", upload_name,
                       settings.PHOTO_TASK_SOFT_TIME_LIMIT)
        return "failed" if stub_photo_fail(upload_name=upload_name) else "gone"


@shared_task
def requeue_lost_photos() -> dict:
    """Beat, every minute: photos whose task was lost are queued again, or marked failed once
    they have waited too long (marketplace.photos.stub_photos_requeue_lost)."""
    return stub_photos_requeue_lost()


@shared_task(acks_late=True, name=WATCH_PRICE_DROPS_TASK)
def watch_price_drops_notify_task(*, listing_id: int) -> int:
    """After a listing's price changed: email the watchers it dropped for (marketplace.watchlist)."""
    return watch_price_drops_notify(listing_id=listing_id)


@shared_task(acks_late=True, name=WATCH_RESERVED_TASK)
def watch_reserved_notify_task(*, listing_id: int) -> int:
    """After a buyer started paying for a watched stub: tell the other watchers, once per hold."""
    return watch_reserved_notify(listing_id=listing_id)


@shared_task(name="payments.tasks.send_saved_search_digests")
def send_saved_search_digests() -> dict:
    """Beat, daily: each saved search's new matches, one email per search (sent once a day)."""
    return saved_search_digests_send()
