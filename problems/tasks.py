"""Background work of problem reports: the deadlines (beat, every 15 minutes,
stubcollector/celery.py), their photos' processing (queued by name by problems.services) and
the sweep for photos whose task was lost (beat, every minute)."""

from celery import shared_task

from marketplace.tasks import PhotoTask
from problems.services import (
    PHOTO_TASK,
    problem_deadlines_apply,
    problem_photo_fail,
    problem_photo_process,
    problem_photos_requeue_lost,
)


@shared_task(name="problems.apply_deadlines")
def apply_deadlines() -> dict:
    return problem_deadlines_apply()


class ProblemPhotoTask(PhotoTask):
    """The stub photo task's retries, time limits and failures (marketplace.tasks.PhotoTask)."""

    def photo_fail(self, **kwargs) -> bool:
        return problem_photo_fail(photo_id=kwargs["photo_id"])


@shared_task(base=ProblemPhotoTask, name=PHOTO_TASK)
def photo_process(*, photo_id: int) -> str:
    return problem_photo_process(photo_id=photo_id)


@shared_task(name="problems.requeue_lost_photos")
def requeue_lost_photos() -> dict:
    """Beat, every minute: report photos whose task was lost are queued again, or marked failed
    once they have waited too long (problems.services.problem_photos_requeue_lost)."""
    return problem_photos_requeue_lost()
