import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.tests.factories import SellerFactory
from marketplace.models import Listing
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_bytes, image_upload, photo_tasks_run
from marketplace.tests.test_listing_edit import listing_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller_client(client):
    client.force_login(SellerFactory())
    return client


def post_with_photo(client, photo):
    with photo_tasks_run():
        return client.post("/listings/new/", {**listing_form_data(), "photos": photo})


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_a_jpeg_png_or_webp_photo_is_stored_with_a_thumbnail(seller_client, image_format):
    response = post_with_photo(seller_client, image_upload(image_format, size=(1600, 1200)))
    assert response.status_code == 302
    stub = Listing.objects.get().stub
    assert default_storage.exists(stub.photo.name)
    assert default_storage.exists(stub.thumbnail.name)
    with default_storage.open(stub.thumbnail.name) as thumb:
        image = Image.open(thumb)
        assert image.format == "WEBP"
        assert image.width <= 480 and image.height <= 320
    with default_storage.open(stub.photo.name) as photo:
        assert Image.open(photo).format == image_format


def test_the_grid_and_the_detail_page_show_the_uploaded_photo(seller_client, client):
    post_with_photo(seller_client, image_upload("PNG"))
    stub = Listing.objects.get().stub
    assert stub.thumbnail.url in client.get("/").content.decode()
    assert stub.photo.url in client.get(f"/listings/{stub.listings.get().pk}/").content.decode()


def test_a_file_that_is_not_an_image_is_refused(seller_client):
    fake = SimpleUploadedFile("stub.jpg", b"this is not a photo at all", content_type="image/jpeg")
    response = post_with_photo(seller_client, fake)
    assert response.status_code == 400
    assert "not a photo we can read" in response.content.decode()
    assert not Listing.objects.exists()


def test_a_truncated_image_is_refused(seller_client):
    data = image_bytes("PNG", size=(400, 300))
    response = post_with_photo(seller_client, SimpleUploadedFile("stub.png", data[: len(data) // 2]))
    assert response.status_code == 400
    assert not Listing.objects.exists()


def test_a_photo_over_5_mb_is_refused(seller_client):
    big = image_bytes("JPEG") + b"\0" * (5 * 1024 * 1024)
    response = post_with_photo(seller_client, SimpleUploadedFile("big.jpg", big, content_type="image/jpeg"))
    assert response.status_code == 400
    assert "limit is 5 MB" in response.content.decode()


def test_a_photo_larger_than_4000_pixels_is_refused(seller_client):
    response = post_with_photo(seller_client, image_upload("PNG", size=(5000, 5000)))
    assert response.status_code == 400
    assert "5000×5000 pixels" in response.content.decode()


def test_a_gif_is_refused(seller_client):
    response = post_with_photo(seller_client, image_upload("GIF", size=(200, 100)))
    assert response.status_code == 400
    assert "JPEG, PNG or WebP" in response.content.decode()
    assert not Listing.objects.exists()


def test_a_decompression_bomb_is_refused_cleanly(seller_client, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # a 1600×1200 image is now a "bomb"
    response = post_with_photo(seller_client, image_upload("PNG", size=(1600, 1200)))
    assert response.status_code == 400
    assert "too large to process" in response.content.decode()


def test_the_owner_replaces_the_photo(client):
    seller = SellerFactory()
    client.force_login(seller)
    post_with_photo(client, image_upload("JPEG"))
    listing = Listing.objects.get()
    old_photo = listing.stub.photo.name
    with photo_tasks_run():
        response = client.post(
            f"/listings/{listing.pk}/edit/", {**listing_form_data(), "photo": image_upload("PNG")}
        )
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.stub.photo.name != old_photo and listing.stub.photo.name.endswith(".png")


def test_editing_without_a_new_photo_keeps_the_old_one(client):
    listing = ListingFactory()
    client.force_login(listing.seller)
    with photo_tasks_run():
        client.post(f"/listings/{listing.pk}/edit/", {**listing_form_data(), "photo": image_upload("JPEG")})
    listing.refresh_from_db()
    photo = listing.stub.photo.name
    client.post(f"/listings/{listing.pk}/edit/", listing_form_data(price="77"))
    listing.refresh_from_db()
    assert listing.stub.photo.name == photo and listing.price_cents == 7700


def test_replacing_a_photo_shared_with_other_stubs_keeps_the_shared_file(client):
    from marketplace.models import Stub

    seller = SellerFactory()
    client.force_login(seller)
    post_with_photo(client, image_upload("JPEG"))
    listing = Listing.objects.get()
    shared_photo = listing.stub.photo.name
    other = ListingFactory(stub__photo=shared_photo)  # as bulk demo rows share one picture
    with photo_tasks_run():
        client.post(f"/listings/{listing.pk}/edit/", {**listing_form_data(), "photo": image_upload("PNG")})
    assert default_storage.exists(shared_photo)
    assert Stub.objects.get(pk=other.stub_id).photo.name == shared_photo
