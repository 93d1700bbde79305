"""Stub photos on S3 (core/storage.py), against moto's server mode: a photo uploaded through one
app host is served to another host that has nothing on its disk, the photo task publishes into
the bucket, deleting a photo deletes its objects, and an unreachable bucket is a clear 503 for an
upload (pages still render) and a retried, then failed, photo for the task."""

import datetime
import io
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.tests.factories import SellerFactory
from marketplace.models import Listing, PhotoState, Stub
from marketplace.photos import stub_photos_add, stub_photos_requeue_lost
from marketplace.tasks import stub_photo_process_task
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload, photo_tasks_run
from marketplace.tests.test_listing_edit import listing_form_data
from testing.celery_support import wait_until
from testing.s3 import s3_outage

pytestmark = pytest.mark.django_db


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def photo_urls(page: str, endpoint_url: str) -> list[str]:
    return re.findall(rf'(?:src|href)="({re.escape(endpoint_url)}/[^"]+)"', page)


def new_listing_with_photo(client, photo):
    with photo_tasks_run():
        response = client.post("/listings/new/", {**listing_form_data(), "photos": photo})
    assert response.status_code == 302
    return Listing.objects.get()


def test_a_photo_uploaded_through_one_host_is_served_by_another_with_an_empty_disk(
    s3_media, settings, tmp_path
):
    host_a = Client()
    host_a.force_login(SellerFactory())

    listing = new_listing_with_photo(host_a, image_upload("JPEG", size=(1600, 1200)))

    stub = listing.stub
    assert stub.photo_state == PhotoState.READY
    assert s3_media.keys() == {stub.photo.name, stub.thumbnail.name}  # the kept upload is gone too
    assert not Path(settings.MEDIA_ROOT).exists()  # nothing on this host's disk
    # Host B: its own (empty) disk and its own storage objects, made afresh from the settings.
    settings.MEDIA_ROOT = tmp_path / "host-b-media"
    settings.STORAGES = dict(settings.STORAGES)
    host_b = Client()
    response, grid = host_b.get(f"/listings/{listing.pk}/"), host_b.get("/")
    assert response.status_code == grid.status_code == 200
    urls = {
        *photo_urls(response.content.decode(), s3_media.endpoint_url),
        *photo_urls(grid.content.decode(), s3_media.endpoint_url),
    }
    assert {url.split("?")[0].split(f"/{s3_media.name}/", 1)[1] for url in urls} == {
        stub.photo.name,
        stub.thumbnail.name,
    }
    pictures = [Image.open(io.BytesIO(fetch(url))) for url in urls]  # from the bucket, over HTTP
    pictures = {picture.format: picture.size for picture in pictures}
    assert pictures["JPEG"] == (1600, 1200)
    assert max(pictures["WEBP"]) <= 480
    assert s3_media.endpoint_url in response["Content-Security-Policy"].split("img-src", 1)[1].split(";")[0]
    assert not settings.MEDIA_ROOT.exists()


def test_deleting_a_photo_deletes_its_objects_in_the_bucket(s3_media, client):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)
    with photo_tasks_run():
        client.post(f"/listings/{listing.pk}/photos/", {"photos": [image_upload(), image_upload("PNG")]})
    listing.stub.refresh_from_db()
    cover = {listing.stub.photo.name, listing.stub.thumbnail.name}
    assert len(s3_media.keys()) == 4

    with photo_tasks_run():
        response = client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": 0})

    assert response.status_code == 302
    assert len(s3_media.keys()) == 2 and not cover & s3_media.keys()


def test_an_upload_while_the_bucket_is_unreachable_is_a_503_that_says_so(settings, client):
    s3_outage(settings)
    client.force_login(SellerFactory())

    with photo_tasks_run():
        response = client.post("/listings/new/", {**listing_form_data(), "photos": image_upload()})

    assert response.status_code == 503
    assert "Files cannot be stored or read right now" in response.content.decode()
    assert not Listing.objects.exists()


def test_pages_with_photos_still_render_while_the_bucket_is_unreachable(s3_media, settings, client):
    seller = Client()
    seller.force_login(SellerFactory())
    listing = new_listing_with_photo(seller, image_upload())
    s3_outage(settings)

    assert client.get(f"/listings/{listing.pk}/").status_code == 200
    assert client.get("/").status_code == 200


def test_the_photo_task_retries_an_unreachable_bucket_then_marks_the_photo_failed(s3_media, settings, client):
    client.force_login(SellerFactory())
    client.post("/listings/new/", {**listing_form_data(), "photos": image_upload()})  # task not run yet
    stub = Listing.objects.get().stub
    upload_name = stub.photo_upload.name
    assert s3_media.keys() == {upload_name}
    with pytest.raises(urllib.error.HTTPError) as anonymous:  # the kept upload, metadata and all
        fetch(f"{s3_media.endpoint_url}/{s3_media.name}/{upload_name}")
    assert anonymous.value.code == 403
    s3_outage(settings)

    result = stub_photo_process_task.apply(kwargs={"upload_name": upload_name})

    assert result.failed()
    stub.refresh_from_db()
    assert stub.photo_state == PhotoState.FAILED  # the seller sees it and can upload again


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_reads_the_upload_from_the_bucket_and_publishes_into_it(
    s3_media, settings, client, worker_app
):
    client.force_login(SellerFactory())
    response = client.post(
        "/listings/new/", {**listing_form_data(), "photos": image_upload("PNG", size=(1200, 900))}
    )
    assert response.status_code == 302
    upload_name = Listing.objects.get().stub.photo_upload.name
    assert s3_media.keys() == {upload_name}

    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        wait_until(lambda: Listing.objects.get().stub.photo_state == PhotoState.READY)
    connections.close_all()

    stub = Listing.objects.get().stub
    assert s3_media.keys() == {stub.photo.name, stub.thumbnail.name}
    assert Image.open(io.BytesIO(s3_media.read(stub.thumbnail.name))).size[0] <= 480
    assert not Path(settings.MEDIA_ROOT).exists()


def test_a_photo_whose_task_was_lost_is_found_and_processed_in_the_bucket(s3_media, settings):
    """Beat's sweep (marketplace.photos.stub_photos_requeue_lost) reads a kept upload's age from
    the bucket; an upload missing from it makes its slot failed rather than stop the sweep."""
    seller = SellerFactory()
    lost = ListingFactory(seller=seller, stub__photo="", stub__thumbnail="")
    stub_photos_add(listing_id=lost.pk, seller=seller, files=[image_upload()])  # its task lost
    gone = ListingFactory(seller=seller, stub__photo="", stub__thumbnail="")
    stub_photos_add(listing_id=gone.pk, seller=seller, files=[image_upload("PNG")])
    gone_upload = Stub.objects.get(pk=gone.stub_id).photo_upload.name
    s3_media.client.delete_object(Bucket=s3_media.name, Key=gone_upload)

    assert stub_photos_requeue_lost() == {"queued": 1, "failed": 0, "waiting": 1}  # lost again
    cache.clear()
    with photo_tasks_run():
        later = timezone.now() + datetime.timedelta(seconds=settings.PHOTO_REQUEUE_AFTER_SECONDS + 1)
        assert stub_photos_requeue_lost(now=later)["queued"] == 2

    assert Stub.objects.get(pk=lost.stub_id).photo_state == PhotoState.READY
    assert Stub.objects.get(pk=gone.stub_id).photo_state == PhotoState.FAILED
    stub = Stub.objects.get(pk=lost.stub_id)
    assert s3_media.keys() == {stub.photo.name, stub.thumbnail.name}
