"""Up to six photos per listing, reordering, deleting, the gallery on the detail
page; the same validation as the cover, thumbnails made once at upload."""

import pytest

from accounts.tests.factories import SellerFactory
from marketplace.models import StubPhoto
from marketplace.photos import TooManyPhotos, stub_gallery, stub_photos_add
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload, photo_tasks_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, listing, *files):
    with photo_tasks_run():
        return client.post(f"/listings/{listing.pk}/photos/", {"photos": list(files)})


def test_the_seller_adds_several_photos_and_the_first_becomes_the_cover(client):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)

    response = upload(client, listing, image_upload(), image_upload("PNG"), image_upload("WEBP"))

    assert response.status_code == 302
    listing.stub.refresh_from_db()
    assert listing.stub.photo and listing.stub.thumbnail.name.endswith(".webp")
    extras = list(StubPhoto.objects.filter(stub=listing.stub))
    assert [p.position for p in extras] == [1, 2]
    assert all(p.thumbnail.name.endswith(".webp") for p in extras)  # made at upload, once


def test_no_more_than_six_photos(client):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)
    upload(client, listing, *[image_upload() for _ in range(5)])

    response = upload(client, listing, image_upload(), image_upload())

    assert response.status_code == 400
    assert "at most 6 photos" in response.content.decode()
    listing.stub.refresh_from_db()
    assert len(stub_gallery(stub=listing.stub)) == 5
    with pytest.raises(TooManyPhotos):
        stub_photos_add(listing_id=listing.pk, seller=listing.seller, files=[image_upload(), image_upload()])


def test_a_bad_file_is_refused_and_nothing_is_written(client):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)

    response = upload(client, listing, image_upload(), image_upload("GIF"))

    assert response.status_code == 400
    assert "JPEG, PNG or WebP" in response.content.decode()
    listing.stub.refresh_from_db()
    assert not listing.stub.photo and not StubPhoto.objects.exists()


def test_photos_move_and_the_cover_follows(client):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)
    upload(client, listing, image_upload(), image_upload("PNG"))
    listing.stub.refresh_from_db()
    cover, second = listing.stub.photo.name, StubPhoto.objects.get().image.name

    client.post(f"/listings/{listing.pk}/photos/move/", {"slot": 1, "direction": "up"})

    listing.stub.refresh_from_db()
    assert listing.stub.photo.name == second
    assert StubPhoto.objects.get().image.name == cover
    client.post(f"/listings/{listing.pk}/photos/move/", {"slot": 0, "direction": "up"})  # already first
    assert [slot["image"].name for slot in stub_gallery(stub=listing.stub)] == [second, cover]


def test_deleting_the_cover_promotes_the_next_photo(client):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)
    upload(client, listing, image_upload(), image_upload("PNG"))
    second = StubPhoto.objects.get().image.name

    client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": 0})

    listing.stub.refresh_from_db()
    assert listing.stub.photo.name == second and not StubPhoto.objects.exists()


def test_only_the_owner_manages_photos(client):
    listing = ListingFactory()
    client.force_login(SellerFactory())
    assert client.get(f"/listings/{listing.pk}/photos/").status_code == 404
    assert upload(client, listing, image_upload()).status_code == 404
    assert client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": 0}).status_code == 404


def test_junk_slots_are_a_404_not_a_500(client):
    listing = ListingFactory()
    client.force_login(listing.seller)
    for slot in ("abc", "99", ""):
        assert client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": slot}).status_code == 404


def test_a_negative_slot_deletes_nothing(client):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)
    upload(client, listing, image_upload(), image_upload("PNG"))

    for slot in ("-1", "-2", "-99"):
        assert client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": slot}).status_code == 404
        assert client.post(f"/listings/{listing.pk}/photos/move/", {"slot": slot, "direction": "up"}
                           ).status_code == 404

    listing.stub.refresh_from_db()
    assert len(stub_gallery(stub=listing.stub)) == 2


def test_the_detail_page_shows_the_gallery_with_zoom(client):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    with photo_tasks_run():
        stub_photos_add(listing_id=listing.pk, seller=listing.seller,
                        files=[image_upload(), image_upload("PNG")])

    html = client.get(f"/listings/{listing.pk}/").content.decode()

    assert html.count("data-gallery-thumb") == 2
    assert 'id="gallery-zoom"' in html and "<dialog" in html
