"""Background work of the marketplace app (Celery tasks; see stubcollector/celery.py)."""

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

logger = logging.getLogger(__name__)


class PhotoTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """A failure the task could not handle itself, the hard time limit above all (the worker
        kills the process stuck in Pillow and calls this in its parent): the photo is marked
        failed instead of showing as processing for ever."""
        from marketplace.photos import stub_photo_fail

        logger.error("Photo upload %s failed: %r", kwargs.get("upload_name"), exc)
        if kwargs.get("upload_name"):
            stub_photo_fail(upload_name=kwargs["upload_name"])


@shared_task(base=PhotoTask, acks_late=True, soft_time_limit=settings.PHOTO_TASK_SOFT_TIME_LIMIT,
             time_limit=settings.PHOTO_TASK_TIME_LIMIT)
def stub_photo_process_task(*, upload_name: str) -> str:
    """Decode one kept upload and publish its photo and thumbnail (marketplace.photos). Not
    retried: a file that is too slow or unreadable once stays so. Past the soft time limit the
    photo is marked failed; the hard limit replaces a worker stuck inside Pillow (PhotoTask)."""
    from marketplace.photos import stub_photo_fail, stub_photo_process

    try:
        return stub_photo_process(upload_name=upload_name)
    except SoftTimeLimitExceeded:
        logger.warning("Photo upload %s took longer than %s s; marked failed", upload_name,
                       settings.PHOTO_TASK_SOFT_TIME_LIMIT)
        return "failed" if stub_photo_fail(upload_name=upload_name) else "gone"
