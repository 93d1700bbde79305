"""A stub with a live order (sold, or a buyer paying) keeps its photos: uploads, moves and
deletes are refused with a message; once a full refund puts it back on sale they work again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.models import ListingStatus
from marketplace.photos import stub_gallery
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload, photo_tasks_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def listing_with_two_photos(client):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)
    with photo_tasks_run():
        assert client.post(f"/listings/{listing.pk}/photos/",
                           {"photos": [image_upload(), image_upload("PNG")]}).status_code == 302
    return listing


def gallery_names(listing):
    listing.stub.refresh_from_db()
    return [slot["image"].name for slot in stub_gallery(stub=listing.stub)]


def sell(listing):
    listing.status = ListingStatus.SOLD
    listing.save(update_fields=["status"])


@pytest.mark.parametrize("path, data", [
    ("photos/", lambda: {"photos": [image_upload()]}),
    ("photos/move/", lambda: {"slot": "1", "direction": "up"}),
    ("photos/delete/", lambda: {"slot": "0"}),
])
def test_photos_of_a_sold_stub_cannot_be_added_moved_or_deleted(client, listing_with_two_photos, path, data):
    listing = listing_with_two_photos
    before = gallery_names(listing)
    sell(listing)

    with photo_tasks_run():
        response = client.post(f"/listings/{listing.pk}/{path}", data())

    assert response.status_code == 409
    assert "stay as the buyer bought them" in response.content.decode()
    assert gallery_names(listing) == before


def test_photos_cannot_change_while_a_buyer_is_paying(client, listing_with_two_photos):
    listing = listing_with_two_photos
    before = gallery_names(listing)
    listing.status, listing.reserved_by = ListingStatus.RESERVED, UserFactory()
    listing.reserved_until = timezone.now() + timedelta(minutes=10)
    listing.save()

    response = client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": "0"})

    assert response.status_code == 409 and "A buyer is paying" in response.content.decode()
    assert gallery_names(listing) == before


def test_photos_change_again_once_the_stub_is_back_on_sale(client, listing_with_two_photos):
    listing = listing_with_two_photos
    sell(listing)
    listing.status = ListingStatus.ACTIVE  # a full refund put it back on sale
    listing.save(update_fields=["status"])

    response = client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": "0"})

    assert response.status_code == 302
    assert len(gallery_names(listing)) == 1
