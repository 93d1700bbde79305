"""Photo uploads cost the request next to no CPU: the request reads the header only and refuses
more pixels than PHOTO_MAX_PIXELS; a Celery task (with time limits) decodes, re-encodes and
makes the thumbnail; pages and the API show a placeholder until it is done; the seller sees a
photo that failed; uploads are rate-limited per seller and per IP."""

import io
import struct
import zlib

import pytest
from celery.contrib.testing.worker import start_worker
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from PIL import Image, ImageFile

from accounts.tests.factories import SellerFactory
from marketplace import images
from marketplace.models import Listing, PhotoState, Stub, StubPhoto
from marketplace.photos import stub_gallery, stub_photo_process
from marketplace.tasks import stub_photo_process_task
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload, photo_tasks_run
from marketplace.tests.test_listing_edit import listing_form_data
from testing.celery_support import wait_until

pytestmark = pytest.mark.django_db



def png_bytes(size, mode="L") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width×height (a decompression bomb's shape) with one tiny
    compressed row: small on the wire, enormous once decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.fixture
def decoding_spy(monkeypatch):
    """Records every pixel decode and every encode Pillow does (the CPU an upload costs)."""
    calls = {"load": 0, "save": []}
    real_load, real_save = ImageFile.ImageFile.load, Image.Image.save

    def load(self, *args, **kwargs):
        calls["load"] += 1
        return real_load(self, *args, **kwargs)

    def save(self, fp, format=None, **params):
        calls["save"].append((format, params))
        return real_save(self, fp, format, **params)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    monkeypatch.setattr(Image.Image, "save", save)
    return calls


def new_listing(client):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)
    return listing


# -- the pixel budget, checked on the header -------------------------------------------------------


def test_a_small_png_that_decodes_to_3999_by_3999_is_refused_and_never_decoded(client, decoding_spy):
    data = png_bytes((3999, 3999))  # ~16 megapixels of black: tens of kilobytes on the wire
    assert len(data) < 200_000
    decoding_spy["load"] = 0
    listing = new_listing(client)

    response = client.post(f"/listings/{listing.pk}/photos/",
                           {"photos": [SimpleUploadedFile("black.png", data, content_type="image/png")]})

    assert response.status_code == 400
    assert "3999×3999 pixels (16.0 megapixels); the limit is 12 megapixels" in response.content.decode()
    assert decoding_spy["load"] == 0
    assert not StubPhoto.objects.exists() and not Stub.objects.get(pk=listing.stub_id).photo_upload


def test_the_pixel_budget_is_a_setting(client, settings):
    settings.PHOTO_MAX_PIXELS = 100_000
    listing = new_listing(client)

    response = client.post(f"/listings/{listing.pk}/photos/",
                           {"photos": [image_upload("PNG", size=(400, 300))]})

    assert response.status_code == 400
    assert "the limit is 0.1 megapixels" in response.content.decode()


def test_a_decompression_bomb_png_is_a_clear_400_on_the_sell_form(client, decoding_spy):
    client.force_login(SellerFactory())
    bomb = SimpleUploadedFile("bomb.png", png_header_only(30_000, 30_000), content_type="image/png")
    decoding_spy["load"] = 0

    response = client.post("/listings/new/", {**listing_form_data(), "photos": bomb})

    assert response.status_code == 400
    assert "too large to process" in response.content.decode()
    assert decoding_spy["load"] == 0 and not Listing.objects.exists()


# -- nothing expensive on the request path -----------------------------------------------------------


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_an_upload_request_decodes_and_encodes_nothing(client, decoding_spy, image_format):
    listing = new_listing(client)
    photo = image_upload(image_format, size=(1600, 1200))
    decoding_spy["load"], decoding_spy["save"] = 0, []

    response = client.post(f"/listings/{listing.pk}/photos/", {"photos": [photo]})

    assert response.status_code == 302
    assert decoding_spy["load"] == 0 and decoding_spy["save"] == []
    listing.stub.refresh_from_db()
    assert listing.stub.photo_state == PhotoState.PROCESSING and not listing.stub.photo
    assert default_storage.exists(listing.stub.photo_upload.name)  # kept for the task


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_the_re_encode_never_asks_for_optimize(decoding_spy, image_format):
    upload = image_upload(image_format, size=(640, 480))
    decoding_spy["save"] = []

    images.photo_render(upload)

    assert decoding_spy["save"], "the photo and the thumbnail are encoded"
    assert all("optimize" not in params for _format, params in decoding_spy["save"])


# -- the task ----------------------------------------------------------------------------------------


def test_the_photo_task_has_a_soft_and_a_hard_time_limit_from_the_settings(settings):
    assert stub_photo_process_task.soft_time_limit == settings.PHOTO_TASK_SOFT_TIME_LIMIT
    assert stub_photo_process_task.time_limit == settings.PHOTO_TASK_TIME_LIMIT
    assert stub_photo_process_task.soft_time_limit < stub_photo_process_task.time_limit


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_publishes_the_uploaded_photos_after_the_request_answered(client, worker_app):
    listing = new_listing(client)

    response = client.post(f"/listings/{listing.pk}/photos/",
                           {"photos": [image_upload("PNG", size=(1200, 900)), image_upload("JPEG")]})

    assert response.status_code == 302
    gallery = stub_gallery(stub=Stub.objects.get(pk=listing.stub_id))
    assert [slot["state"] for slot in gallery] == [PhotoState.PROCESSING] * 2
    uploads = [Stub.objects.get(pk=listing.stub_id).photo_upload.name, StubPhoto.objects.get().upload.name]
    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        wait_until(lambda: not StubPhoto.objects.filter(state=PhotoState.PROCESSING).exists()
                   and Stub.objects.get(pk=listing.stub_id).photo_state == PhotoState.READY)
    connections.close_all()

    stub = Stub.objects.get(pk=listing.stub_id)
    extra = StubPhoto.objects.get()
    assert stub.photo.name.endswith(".png") and stub.thumbnail.name.endswith(".webp")
    assert extra.image.name.endswith(".jpg") and extra.state == PhotoState.READY
    with default_storage.open(stub.thumbnail.name) as thumb:
        assert Image.open(thumb).size[0] <= 480
    assert not stub.photo_upload and not extra.upload
    assert not any(default_storage.exists(name) for name in uploads)  # the uploads are gone
    assert stub.photo.url in client.get(f"/listings/{listing.pk}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_with_no_broker_the_photo_is_ready_once_the_upload_has_committed(client, settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER  # as `make run`: tasks run in-process after the commit
    listing = new_listing(client)

    client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload("PNG")]})

    stub = Stub.objects.get(pk=listing.stub_id)
    assert stub.photo_state == PhotoState.READY and stub.photo.name.endswith(".png")
    assert stub.thumbnail.url in client.get("/").content.decode()


def test_a_photo_past_the_soft_time_limit_is_marked_failed_and_its_upload_deleted(client, monkeypatch):
    listing = new_listing(client)

    def too_slow(self, *args, **kwargs):
        raise SoftTimeLimitExceeded()  # what Celery raises inside Pillow at the soft limit

    monkeypatch.setattr(ImageFile.ImageFile, "load", too_slow)
    with photo_tasks_run():
        client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload(), image_upload("PNG")]})
    monkeypatch.undo()

    stub = Stub.objects.get(pk=listing.stub_id)
    assert stub.photo_state == PhotoState.FAILED and not stub.photo and not stub.photo_upload
    assert StubPhoto.objects.get().state == PhotoState.FAILED
    assert default_storage.listdir("incoming")[1] == []


def test_a_photo_whose_worker_was_killed_at_the_hard_time_limit_is_marked_failed(client):
    listing = new_listing(client)
    client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload()]})
    upload_name = Stub.objects.get(pk=listing.stub_id).photo_upload.name

    # What Celery's worker calls in its parent process after killing the child at time_limit.
    stub_photo_process_task.on_failure(TimeLimitExceeded(30), "task-id", (),
                                       {"upload_name": upload_name}, None)

    assert Stub.objects.get(pk=listing.stub_id).photo_state == PhotoState.FAILED


def test_an_upload_pillow_cannot_decode_is_marked_failed(client):
    listing = new_listing(client)
    data = png_header_only(400, 300)  # a valid header, one row of data for 300: truncated

    with photo_tasks_run():
        response = client.post(f"/listings/{listing.pk}/photos/",
                               {"photos": [SimpleUploadedFile("cut.png", data, content_type="image/png")]})

    assert response.status_code == 302
    assert Stub.objects.get(pk=listing.stub_id).photo_state == PhotoState.FAILED


def test_a_processing_photo_moved_before_the_task_runs_is_published_in_its_new_slot(client):
    listing = new_listing(client)
    client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload(), image_upload("PNG")]})
    png_upload = StubPhoto.objects.get().upload.name
    client.post(f"/listings/{listing.pk}/photos/move/", {"slot": 1, "direction": "up"})

    assert stub_photo_process(upload_name=png_upload) == "ready"

    stub = Stub.objects.get(pk=listing.stub_id)
    assert stub.photo_state == PhotoState.READY and stub.photo.name.endswith(".png")
    assert StubPhoto.objects.get().state == PhotoState.PROCESSING  # the JPEG's task has not run


def test_a_photo_deleted_before_its_task_runs_leaves_no_file_behind(client):
    listing = new_listing(client)
    client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload()]})
    upload_name = Stub.objects.get(pk=listing.stub_id).photo_upload.name
    with photo_tasks_run():
        client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": 0})

    assert stub_photo_process(upload_name=upload_name) == "gone"
    assert not default_storage.exists(upload_name)


# -- placeholders while processing, failures shown to the seller ------------------------------------


def test_pages_and_the_api_show_a_placeholder_while_a_photo_is_processing(client):
    listing = new_listing(client)
    client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload(), image_upload("PNG")]})
    client.logout()

    detail = client.get(f"/listings/{listing.pk}/")
    browse = client.get("/")
    seller_page = client.get(f"/sellers/{listing.seller.username}/")
    api = client.get("/api/listings/").json()["results"][0]

    assert detail.status_code == browse.status_code == seller_page.status_code == 200
    assert "Photo 1 of 2: being processed" in detail.content.decode()
    assert 'alt="Photo being processed"' in browse.content.decode()
    assert 'alt="Photo being processed"' in seller_page.content.decode()
    assert api["photo_state"] == "processing" and api["photo_url"] is None and api["thumbnail_url"] is None
    assert "incoming/" not in detail.content.decode() + browse.content.decode() + str(api)


def test_a_failed_photo_is_shown_to_its_seller_and_hidden_from_buyers(client, monkeypatch):
    listing = new_listing(client)
    with photo_tasks_run():
        client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload()]})
    monkeypatch.setattr(ImageFile.ImageFile, "load",
                        lambda self, *a, **k: (_ for _ in ()).throw(SoftTimeLimitExceeded()))
    with photo_tasks_run():
        client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload("PNG")]})
    monkeypatch.undo()

    photos_page = client.get(f"/listings/{listing.pk}/photos/").content.decode()
    own_detail = client.get(f"/listings/{listing.pk}/").content.decode()
    client.logout()
    public_detail = client.get(f"/listings/{listing.pk}/").content.decode()

    assert "Could not be processed" in photos_page
    assert "Photo 2 could not be processed" in own_detail
    assert "could not be processed" not in public_detail and "data-gallery-thumb" not in public_detail


# -- rate limits ------------------------------------------------------------------------------------


def test_a_seller_uploading_too_often_gets_a_429_with_a_clear_message(client, settings):
    settings.PHOTO_UPLOAD_RATE_PER_SELLER = "2/h"
    listing = new_listing(client)

    answers = [client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload()]}).status_code
               for _ in range(3)]
    refused = client.post("/listings/new/", {**listing_form_data(), "photos": image_upload()})

    assert answers == [302, 302, 429]
    assert refused.status_code == 429
    assert "uploaded many photos in a short time" in refused.content.decode()
    assert StubPhoto.objects.count() == 1  # the cover and one more; nothing from the refused ones


def test_editing_a_listing_without_a_photo_is_not_an_upload(client, settings):
    settings.PHOTO_UPLOAD_RATE_PER_SELLER = "1/h"
    listing = new_listing(client)

    answers = [client.post(f"/listings/{listing.pk}/edit/", listing_form_data(price=str(50 + n))).status_code
               for n in range(3)]

    assert answers == [302, 302, 302]


def test_many_sellers_behind_one_ip_share_the_per_ip_upload_limit(client, settings):
    settings.PHOTO_UPLOAD_RATE_PER_IP = "2/h"
    answers = []
    for _ in range(3):
        listing = new_listing(client)  # a new seller each time, the same address
        response = client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload()]})
        answers.append(response.status_code)

    assert answers == [302, 302, 429]
