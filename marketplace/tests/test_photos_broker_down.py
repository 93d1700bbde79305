"""A photo uploaded while the broker refuses tasks (Redis away) is processed in the request
instead of being lost (marketplace.photos): lost, the slot would stay a placeholder until beat's
sweep queued it again minutes later. The broker refuses as in
security/test_redis_down.py."""

import pytest

from marketplace.models import PhotoState, StubPhoto
from marketplace.photos import PHOTO_TASK
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload, photo_tasks_run
from security.test_redis_down import no_500, take_redis_down

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_photos_uploaded_with_the_broker_down_are_ready_when_the_request_answers(
        client, settings, monkeypatch, caplog):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)
    take_redis_down(settings, monkeypatch)

    with photo_tasks_run():
        response = no_500(client).post(f"/listings/{listing.pk}/photos/",
                                       {"photos": [image_upload(), image_upload("PNG")]})

    assert response.status_code == 302
    listing.stub.refresh_from_db()
    assert listing.stub.photo_state == PhotoState.READY and listing.stub.photo and listing.stub.thumbnail
    (extra,) = StubPhoto.objects.filter(stub=listing.stub)
    assert extra.state == PhotoState.READY and extra.image and extra.thumbnail
    refused = [record for record in caplog.records if getattr(record, "event", "") == "task.not_queued"
               and record.task == PHOTO_TASK]
    assert len(refused) == 2 and not any(record.lost for record in refused)  # run here, not lost
