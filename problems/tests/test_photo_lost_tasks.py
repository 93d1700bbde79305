"""A problem report's photo whose task was lost (its worker SIGKILLed, Redis restarted empty) is
not left "processing" for ever: beat's sweep (problems.services.problem_photos_requeue_lost)
queues its task again once it has waited PHOTO_REQUEUE_AFTER_SECONDS, once per that long, and
marks it failed past PHOTO_GIVE_UP_AFTER_SECONDS. A task run twice keeps the first one's files.

A task is "lost" here as in production: it is queued for after the commit, which a test's own
transaction never reaches (marketplace.tests.images.photo_tasks_run runs them)."""

import datetime

import pytest
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.db import OperationalError
from django.utils import timezone
from PIL import ImageFile

from core.storage import evidence_storage
from marketplace.tests.images import image_upload, photo_tasks_run
from payments.models import Order
from problems import services
from problems.models import ProblemPhoto
from problems.services import problem_photo_process, problem_photos_requeue_lost, problem_report_open
from problems.tasks import photo_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def lost(shipped):
    """A report with two photos whose tasks were both lost."""
    Order.objects.filter(pk=shipped.pk).update(paid_at=timezone.now() - datetime.timedelta(days=5))
    report, _ = problem_report_open(order_id=shipped.pk, buyer=shipped.buyer, kind="not_as_described",
                                    description="The stub is a photocopy.",
                                    photos=[image_upload(), image_upload("PNG")])
    assert list(report.photos.values_list("state", flat=True)) == ["processing", "processing"]
    return report


def later(seconds: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


def states(report) -> list[str]:
    return list(report.photos.order_by("position").values_list("state", flat=True))


def test_a_report_photo_whose_task_was_lost_is_processed_once_it_has_waited(lost, settings):
    with photo_tasks_run():
        early = problem_photos_requeue_lost(now=later(settings.PHOTO_REQUEUE_AFTER_SECONDS - 5))
    assert early == {"queued": 0, "failed": 0}
    assert states(lost) == ["processing", "processing"]

    with photo_tasks_run():
        swept = problem_photos_requeue_lost(now=later(settings.PHOTO_REQUEUE_AFTER_SECONDS + 1))

    assert swept == {"queued": 2, "failed": 0}
    assert states(lost) == ["ready", "ready"]
    for photo in lost.photos.all():
        assert evidence_storage().exists(photo.image.name) and evidence_storage().exists(photo.thumbnail.name)


def test_a_report_photo_is_queued_again_once_per_wait_not_once_a_minute(lost, settings):
    assert problem_photos_requeue_lost(now=later(settings.PHOTO_REQUEUE_AFTER_SECONDS + 1))["queued"] == 2
    assert problem_photos_requeue_lost(now=later(settings.PHOTO_REQUEUE_AFTER_SECONDS + 61))["queued"] == 0
    assert states(lost) == ["processing", "processing"]


def test_a_report_photo_still_processing_after_the_give_up_time_is_failed(lost, settings):
    with photo_tasks_run():
        report = problem_photos_requeue_lost(now=later(settings.PHOTO_GIVE_UP_AFTER_SECONDS + 1))
    assert report == {"queued": 0, "failed": 2}
    assert states(lost) == ["failed", "failed"]


def test_a_report_photo_whose_upload_is_missing_is_failed(lost):
    photo = lost.photos.order_by("position").first()
    evidence_storage().delete(photo.upload.name)
    assert problem_photo_process(photo_id=photo.pk) == "failed"
    assert states(lost) == ["failed", "processing"]


def test_two_runs_at_once_keep_the_first_to_settle_and_its_files_only(lost, monkeypatch):
    """The sweep's task and the lost one back at once: the other run settles the photo while
    this one decodes; this one then finds it settled and deletes the files it made."""
    photo = lost.photos.order_by("position").first()
    real_render = services.images.photo_render
    outcomes, renders = [], []

    def render_while_the_other_run_settles(upload):
        renders.append(upload)
        if len(renders) == 1:
            outcomes.append(problem_photo_process(photo_id=photo.pk))  # the other run, start to end
        return real_render(upload)

    monkeypatch.setattr(services.images, "photo_render", render_while_the_other_run_settles)
    outcomes.append(problem_photo_process(photo_id=photo.pk))

    assert outcomes == ["ready", "gone"]
    photo.refresh_from_db()
    kept = [photo.image.name, photo.thumbnail.name]
    assert photo.state == "ready" and all(kept)
    folder = kept[0].rpartition("/")[0]
    assert sorted(evidence_storage().listdir(folder)[1]) == sorted(name.rpartition("/")[2] for name in kept)


def test_beat_runs_the_report_photo_sweep_every_minute():
    entry = current_app.conf.beat_schedule["requeue-lost-problem-photos"]
    assert entry["task"] in current_app.tasks
    assert str(entry["schedule"]._orig_minute) == "*"


def test_the_task_tries_again_while_the_database_is_away(lost, monkeypatch):
    """Its first read of the photo cut off (a restart or failover: psycopg's error, as Django
    raises it), then the database back."""
    photo = lost.photos.order_by("position").first()
    real_filter, cut = ProblemPhoto.objects.filter, [1]

    def filter(*args, **kwargs):
        if cut[0]:
            cut[0] -= 1
            raise OperationalError("terminating connection due to administrator command")
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(ProblemPhoto.objects, "filter", filter)
    result = photo_process.apply(kwargs={"photo_id": photo.pk})

    assert result.successful() and result.result == "ready"
    assert states(lost) == ["ready", "processing"]


def test_a_report_photo_past_the_soft_time_limit_is_failed(lost, monkeypatch):
    photo = lost.photos.order_by("position").first()

    def too_slow(self, *args, **kwargs):
        raise SoftTimeLimitExceeded()  # what Celery raises inside Pillow at the soft limit

    monkeypatch.setattr(ImageFile.ImageFile, "load", too_slow)
    assert photo_process.apply(kwargs={"photo_id": photo.pk}).result == "failed"
    assert states(lost) == ["failed", "processing"]


def test_a_report_photo_killed_at_the_hard_time_limit_is_failed_but_not_for_the_database(lost):
    first, second = lost.photos.order_by("position")

    # What Celery's worker calls in its parent process after killing the child at time_limit.
    photo_process.on_failure(TimeLimitExceeded(30), "task-id", (), {"photo_id": first.pk}, None)
    photo_process.on_failure(OperationalError("the database went away"), "task-id", (),
                             {"photo_id": second.pk}, None)

    assert states(lost) == ["failed", "processing"]  # the second is the sweep's to queue again
