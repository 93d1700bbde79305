"""Background work of the marketplace app (Celery tasks; see stubcollector/celery.py)."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=settings.PHOTO_TASK_SOFT_TIME_LIMIT,
             time_limit=settings.PHOTO_TASK_TIME_LIMIT)
def stub_photo_process_task(*, upload_name: str) -> str:
    """Decode one kept upload and publish its photo and thumbnail (marketplace.photos). Not
    retried: a file that is too slow or unreadable once stays so. Past the soft time limit the
    photo is marked failed; the hard limit replaces a worker stuck inside Pillow."""
    from marketplace.photos import stub_photo_fail, stub_photo_process

    try:
        return stub_photo_process(upload_name=upload_name)
    except SoftTimeLimitExceeded:
        logger.warning("Photo upload %s took longer than %s s; marked failed", upload_name,
                       settings.PHOTO_TASK_SOFT_TIME_LIMIT)
        return "failed" if stub_photo_fail(upload_name=upload_name) else "gone"
