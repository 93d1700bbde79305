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


DATABASE_AWAY = (OperationalError, InterfaceError)


class PhotoTask(Task):
    """What the photo tasks (this app's and problems') share. They decode one upload each, so
    they are not retried for the file's sake (a file too slow or unreadable once stays so): only
    the storage or the database away (a restart, a failover), 5 s after the first failure and
    twice as long each time, about 2.5 minutes in all. Past the soft time limit the photo is
    marked failed, and so it is on a failure the task could not handle itself, the hard time
    limit above all (the worker kills the process stuck in Pillow and calls `on_failure` in its
    parent), but for the database still away after the retries: the photo is not at fault, and
    beat's sweep queues it again (marketplace.photos.stub_photos_requeue_lost). A subclass says
    how its photo is marked failed (`photo_fail`)."""

    acks_late = True
    autoretry_for = (StorageUnavailable, *DATABASE_AWAY)
    max_retries = 5
    retry_backoff = 5
    retry_jitter = False
    soft_time_limit = settings.PHOTO_TASK_SOFT_TIME_LIMIT
    time_limit = settings.PHOTO_TASK_TIME_LIMIT

    def photo_fail(self, **kwargs) -> bool:
        """Mark the task's photo failed; False when it was settled or deleted meanwhile."""
        return stub_photo_fail(upload_name=kwargs["upload_name"])

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except SoftTimeLimitExceeded:
            logger.warning("Photo task %s %s took longer than %s s; marked failed", self.name, kwargs,
                           settings.PHOTO_TASK_SOFT_TIME_LIMIT)
            return "failed" if self.photo_fail(**kwargs) else "gone"

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.error("Photo task %s %s failed: %r", self.name, kwargs, exc)
        if kwargs and not isinstance(exc, DATABASE_AWAY):
            self.photo_fail(**kwargs)


@shared_task(base=PhotoTask, name=PHOTO_TASK)
def stub_photo_process_task(*, upload_name: str) -> str:
    """Decode one kept upload and publish its photo and thumbnail (marketplace.photos), with
    PhotoTask's retries, time limits and failures."""
    return stub_photo_process(upload_name=upload_name)


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
