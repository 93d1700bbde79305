"""A stub photo whose task was lost (its worker SIGKILLed mid-decode, Redis restarted empty) is
not left "processing" for ever: beat's sweep (marketplace.photos.stub_photos_requeue_lost) queues
its task again once the upload has waited PHOTO_REQUEUE_AFTER_SECONDS, once per that long, and
marks it failed past PHOTO_GIVE_UP_AFTER_SECONDS. A task run twice settles the slot once.

A task is "lost" here as in production: the upload's task is queued for after the commit, which
a test's own transaction never reaches (marketplace.tests.images.photo_tasks_run runs them)."""

import datetime

import pytest
from celery import current_app
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.utils import timezone

from accounts.tests.factories import SellerFactory
from marketplace import images, photos
from marketplace.models import PhotoState, Stub, StubPhoto
from marketplace.photos import stub_photo_move, stub_photo_process, stub_photos_add, stub_photos_requeue_lost
from marketplace.tasks import stub_photo_process_task
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload, photo_tasks_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def lost(settings):
    """A listing with two photos (the cover and one more) whose tasks were both lost."""
    seller = SellerFactory()
    listing = ListingFactory(seller=seller, stub__photo="", stub__thumbnail="")
    stub_photos_add(listing_id=listing.pk, seller=seller, files=[image_upload(), image_upload("PNG")])
    listing.stub.refresh_from_db()
    assert listing.stub.photo_state == PhotoState.PROCESSING
    assert StubPhoto.objects.get(stub=listing.stub).state == PhotoState.PROCESSING
    return listing


def later(seconds: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


def states(listing) -> list[str]:
    stub = Stub.objects.get(pk=listing.stub_id)
    return [stub.photo_state, *StubPhoto.objects.filter(stub=stub).values_list("state", flat=True)]


def test_a_photo_whose_task_was_lost_is_processed_once_it_has_waited(lost, settings):
    with photo_tasks_run():
        early = stub_photos_requeue_lost(now=later(settings.PHOTO_REQUEUE_AFTER_SECONDS - 5))
    assert early == {"queued": 0, "failed": 0, "waiting": 2}  # its task may only be slow
    assert states(lost) == ["processing", "processing"]

    with photo_tasks_run():
        swept = stub_photos_requeue_lost(now=later(settings.PHOTO_REQUEUE_AFTER_SECONDS + 1))

    assert swept == {"queued": 2, "failed": 0, "waiting": 0}
    assert states(lost) == ["ready", "ready"]
    stub = Stub.objects.get(pk=lost.stub_id)
    extra = StubPhoto.objects.get(stub=stub)
    for published in (stub.photo, stub.thumbnail, extra.image, extra.thumbnail):
        assert published.name and default_storage.exists(published.name)
    assert not stub.photo_upload and not extra.upload
    assert not default_storage.listdir("incoming")[1]  # the kept uploads were deleted
    with photo_tasks_run():
        assert stub_photos_requeue_lost(now=later(3600)) == {"queued": 0, "failed": 0, "waiting": 0}


def test_a_photo_is_queued_again_once_per_wait_not_once_a_minute(lost, settings):
    """A task retrying a storage outage holds its message for minutes: the sweep adds one
    duplicate per PHOTO_REQUEUE_AFTER_SECONDS, not one every tick."""
    first = stub_photos_requeue_lost(now=later(settings.PHOTO_REQUEUE_AFTER_SECONDS + 1))
    assert first["queued"] == 2  # and lost again: this block never commits
    assert stub_photos_requeue_lost(now=later(settings.PHOTO_REQUEUE_AFTER_SECONDS + 61)) == {
        "queued": 0, "failed": 0, "waiting": 2}
    assert states(lost) == ["processing", "processing"]


def test_a_photo_still_processing_after_the_give_up_time_is_failed_for_its_seller(lost, settings, client):
    with photo_tasks_run():
        report = stub_photos_requeue_lost(now=later(settings.PHOTO_GIVE_UP_AFTER_SECONDS + 1))

    assert report == {"queued": 0, "failed": 2, "waiting": 0}
    assert states(lost) == ["failed", "failed"]
    client.force_login(lost.seller)
    page = client.get(f"/listings/{lost.pk}/photos/").content.decode()
    assert "could not be processed" in page.lower()


def test_a_processing_photo_whose_upload_is_missing_is_failed_not_left_processing(lost, settings):
    stub = Stub.objects.get(pk=lost.stub_id)
    default_storage.delete(stub.photo_upload.name)

    with photo_tasks_run():
        report = stub_photos_requeue_lost(now=later(1))  # no age to read: queued at once

    assert report["queued"] == 1
    assert states(lost) == ["failed", "processing"]


def stored_files(folder: str = "stubs") -> list[str]:
    """Every file under `folder` in the media storage."""
    if not default_storage.exists(folder):
        return []
    folders, files = default_storage.listdir(folder)
    return sorted([f"{folder}/{name}" for name in files]
                  + [name for sub in folders for name in stored_files(f"{folder}/{sub}")])


def test_a_late_task_after_the_sweeps_changes_nothing(lost):
    """The lost task comes back after all (Redis's visibility timeout): the slot stays as the
    sweep's task settled it, and the late one publishes nothing."""
    upload = Stub.objects.get(pk=lost.stub_id).photo_upload.name
    with photo_tasks_run():
        assert stub_photo_process(upload_name=upload) == "ready"
    stub = Stub.objects.get(pk=lost.stub_id)
    published = sorted([stub.photo.name, stub.thumbnail.name])
    assert stored_files() == published

    with photo_tasks_run():
        assert stub_photo_process(upload_name=upload) == "gone"

    stub = Stub.objects.get(pk=lost.stub_id)
    assert stub.photo_state == PhotoState.READY
    assert sorted([stub.photo.name, stub.thumbnail.name]) == published == stored_files()


def test_two_runs_at_once_keep_the_first_to_settle_and_its_files_only(lost, monkeypatch):
    """The sweep's task and the lost one back at once: the other run settles the photo while
    this one decodes; this one then finds no slot holding the upload and deletes what it made."""
    upload = Stub.objects.get(pk=lost.stub_id).photo_upload.name
    real_render, outcomes, renders = images.photo_render, [], []

    def render_while_the_other_run_settles(kept):
        renders.append(kept)
        if len(renders) == 1:
            outcomes.append(stub_photo_process(upload_name=upload))  # the other run, start to end
        return real_render(kept)

    monkeypatch.setattr(images, "photo_render", render_while_the_other_run_settles)
    with photo_tasks_run():
        outcomes.append(stub_photo_process(upload_name=upload))

    assert outcomes == ["ready", "gone"]
    stub = Stub.objects.get(pk=lost.stub_id)
    assert stub.photo_state == PhotoState.READY
    assert sorted([stub.photo.name, stub.thumbnail.name]) == stored_files()


def test_a_processing_photo_moved_by_its_seller_is_processed_where_it_now_is(lost, settings):
    extra = StubPhoto.objects.get(stub_id=lost.stub_id)
    moved_upload = extra.upload.name
    stub_photo_move(listing_id=lost.pk, seller=lost.seller, slot=1, offset=-1)
    assert Stub.objects.get(pk=lost.stub_id).photo_upload.name == moved_upload

    with photo_tasks_run():
        stub_photos_requeue_lost(now=later(settings.PHOTO_REQUEUE_AFTER_SECONDS + 1))

    assert states(lost) == ["ready", "ready"]
    assert Stub.objects.get(pk=lost.stub_id).photo.name.endswith(".png")  # the PNG is the cover now


def test_beat_runs_the_sweep_every_minute():
    entry = current_app.conf.beat_schedule["requeue-lost-photos"]
    assert entry["task"] in current_app.tasks
    assert str(entry["schedule"]._orig_minute) == "*"


def database_away_for(monkeypatch, calls: int):
    """The database cut off for the next `calls` reads of the slot holding an upload (a restart
    or failover: psycopg's error, as Django raises it)."""
    real, left = photos._lock_upload_holder, [calls]

    def lock(upload_name):
        if left[0] > 0:
            left[0] -= 1
            raise OperationalError("terminating connection due to administrator command")
        return real(upload_name)

    monkeypatch.setattr(photos, "_lock_upload_holder", lock)


def test_the_task_tries_again_while_the_database_is_away(lost, monkeypatch):
    upload = Stub.objects.get(pk=lost.stub_id).photo_upload.name
    database_away_for(monkeypatch, calls=2)

    with photo_tasks_run():
        result = stub_photo_process_task.apply(kwargs={"upload_name": upload})

    assert result.successful() and result.result == "ready"
    assert Stub.objects.get(pk=lost.stub_id).photo_state == PhotoState.READY


def test_a_database_away_through_every_try_leaves_the_photo_to_the_sweep(lost, monkeypatch, settings):
    upload = Stub.objects.get(pk=lost.stub_id).photo_upload.name
    database_away_for(monkeypatch, calls=stub_photo_process_task.max_retries + 1)

    result = stub_photo_process_task.apply(kwargs={"upload_name": upload})

    assert result.failed()
    assert Stub.objects.get(pk=lost.stub_id).photo_state == PhotoState.PROCESSING  # not the photo's fault
    with photo_tasks_run():
        stub_photos_requeue_lost(now=later(settings.PHOTO_REQUEUE_AFTER_SECONDS + 1))
    assert Stub.objects.get(pk=lost.stub_id).photo_state == PhotoState.READY
