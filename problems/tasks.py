"""Background work of problem reports: the deadlines (beat, every 15 minutes,
stubcollector/celery.py), their photos' processing (queued by name by problems.services) and
the sweep for photos whose task was lost (beat, every minute)."""

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from marketplace.tasks import DATABASE_AWAY, PHOTO_TASK_RETRIED_FOR, PHOTO_TASK_RETRIES
from problems.services import (
    PHOTO_TASK,
    problem_deadlines_apply,
    problem_photo_fail,
    problem_photo_process,
    problem_photos_requeue_lost,
)

logger = logging.getLogger(__name__)


@shared_task(name="problems.apply_deadlines")
def apply_deadlines() -> dict:
    return problem_deadlines_apply()


class ProblemPhotoTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """As marketplace.tasks.PhotoTask: a failure the task could not handle (the hard time
        limit above all) marks the photo failed, unless the database was still away after the
        retries (the sweep queues it again)."""
        logger.error("Problem report photo %s failed: %r", kwargs.get("photo_id"), exc)
        if kwargs.get("photo_id") and not isinstance(exc, DATABASE_AWAY):
            problem_photo_fail(photo_id=kwargs["photo_id"])


@shared_task(
    base=ProblemPhotoTask,
    acks_late=True,
    name=PHOTO_TASK,
    autoretry_for=PHOTO_TASK_RETRIED_FOR,
    max_retries=PHOTO_TASK_RETRIES,
    retry_backoff=5,
    retry_jitter=False,
    soft_time_limit=settings.PHOTO_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.PHOTO_TASK_TIME_LIMIT,
)
def photo_process(*, photo_id: int) -> str:
    """Decode one report photo (problems.services.problem_photo_process), with the stub photo
    task's time limits: past the soft one the photo is marked failed."""
    try:
        return problem_photo_process(photo_id=photo_id)
    except SoftTimeLimitExceeded:
        logger.warning("Problem report photo %s took longer than %s s; marked failed", photo_id,
                       settings.PHOTO_TASK_SOFT_TIME_LIMIT)
        return "failed" if problem_photo_fail(photo_id=photo_id) else "gone"


@shared_task(name="problems.requeue_lost_photos")
def requeue_lost_photos() -> dict:
    """Beat, every minute: report photos whose task was lost are queued again, or marked failed
    once they have waited too long (problems.services.problem_photos_requeue_lost)."""
    return problem_photos_requeue_lost()
