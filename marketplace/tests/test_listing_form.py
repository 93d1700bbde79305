"""The sell form takes the stub's photos at once (one to six, the first the cover) through the
photo page's pipeline, asks for a category with a real prompt, and a double click lists once."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace import services
from marketplace.models import Listing, PhotoState, StubPhoto
from marketplace.photos import stub_gallery
from marketplace.tests.images import image_upload, photo_tasks_run
from marketplace.tests.test_listing_edit import listing_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(client):
    seller = SellerFactory()
    client.force_login(seller)
    return seller


def sell(client, *photos, **fields):
    with photo_tasks_run():
        return client.post("/listings/new/", {**listing_form_data(**fields), "photos": list(photos)})


def test_a_listing_without_a_photo_is_refused_with_a_clear_message(client, seller):
    response = sell(client)

    assert response.status_code == 400
    assert "Add at least one photo of the stub." in response.content.decode()
    assert not Listing.objects.exists()


def test_one_photo_becomes_the_cover(client, seller):
    response = sell(client, image_upload("PNG"))

    listing = Listing.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/listings/{listing.pk}/"
    assert listing.stub.photo.name.endswith(".png") and listing.stub.photo_state == PhotoState.READY
    assert not StubPhoto.objects.exists()


def test_six_photos_are_listed_in_the_order_chosen_the_first_as_cover(client, seller):
    formats = ["PNG", "JPEG", "WEBP", "JPEG", "PNG", "WEBP"]

    response = sell(client, *[image_upload(name) for name in formats])

    assert response.status_code == 302
    gallery = stub_gallery(stub=Listing.objects.get().stub)
    assert [item["state"] for item in gallery] == [PhotoState.READY] * 6
    extension = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
    assert [item["image"].name[-len(extension[f]):] for item, f in zip(gallery, formats, strict=True)] == [
        extension[f] for f in formats
    ]


def test_seven_photos_are_refused_and_nothing_is_listed(client, seller):
    response = sell(client, *[image_upload() for _ in range(7)])

    assert response.status_code == 400
    assert "at most 6 photos; you chose 7" in response.content.decode()
    assert not Listing.objects.exists() and not StubPhoto.objects.exists()


# The bad files are made when the test runs, not when the module is collected: the 5000×5000 PNG
# alone took a second or two of every test process's start, whether or not it ran this test.
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda: SimpleUploadedFile("notes.jpg", b"not a photo at all", content_type="image/jpeg"),
         "Photo 2 (notes.jpg): That file is not a photo we can read"),
        (lambda: image_upload("GIF", size=(200, 100), name="anim.gif"),
         "Photo 2 (anim.gif): Upload a JPEG, PNG or WebP"),
        (lambda: image_upload("PNG", size=(5000, 5000), name="huge.png"),
         "Photo 2 (huge.png): The photo is 5000×5000"),
    ],
    ids=["not-a-photo", "gif", "too-large"],
)
def test_a_bad_file_among_good_ones_is_named_and_nothing_is_listed(client, seller, tmp_path, settings, bad,
                                                                      message):
    settings.MEDIA_ROOT = tmp_path

    response = sell(client, image_upload(), bad(), image_upload("PNG"))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Listing.objects.exists()
    assert not any(tmp_path.rglob("*.*"))  # no file was written for the good ones either


def test_the_category_has_a_real_prompt_and_no_silent_default(client, seller):
    html = client.get("/listings/new/").content.decode()

    select = re.search(r'<select name="category"[^>]*>(.*?)</select>', html, re.S)
    assert select and "required" in select.group(0)
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))
    assert options[0] == ("", " selected", "Choose a category")
    assert all(not chosen for _, chosen, _ in options[1:])


def test_a_listing_without_a_category_is_refused(client, seller):
    response = sell(client, image_upload(), category="")

    assert response.status_code == 400
    assert "Choose a category." in response.content.decode()
    assert not Listing.objects.exists()


def test_the_form_asks_for_photos_and_says_the_first_is_the_cover(client, seller):
    html = client.get("/listings/new/").content.decode()

    assert re.search(r'<input type="file" name="photos"[^>]* multiple', html)
    assert "the first is the cover" in html
    assert 'name="photo"' not in html


def test_a_double_click_lists_the_stub_once(client, seller):
    form = client.get("/listings/new/").content.decode()
    token = re.search(r'name="form_token" value="(\w+)"', form).group(1)

    with photo_tasks_run():
        first = client.post("/listings/new/", {**listing_form_data(), "form_token": token,
                                               "photos": [image_upload()]})
        second = client.post("/listings/new/", {**listing_form_data(), "form_token": token,
                                                "photos": [image_upload()]})

    listing = Listing.objects.get()
    assert first["Location"] == second["Location"] == f"/listings/{listing.pk}/"
    assert len(stub_gallery(stub=listing.stub)) == 1


def test_a_second_send_while_the_first_is_still_running_is_a_clear_409(client, seller, monkeypatch):
    from django.core.cache import cache

    monkeypatch.setattr(services, "LISTING_FORM_WAIT_SECONDS", 0)
    cache.add(f"marketplace:listing-form:{seller.pk}:abc123", 0)

    response = sell(client, image_upload(), form_token="abc123")

    assert response.status_code == 409
    assert "being created already" in response.content.decode()


def test_a_form_with_errors_keeps_its_token_and_the_corrected_send_lists_once(client, seller):
    refused = client.post("/listings/new/", {**listing_form_data(price="abc"), "form_token": "tok1",
                                             "photos": [image_upload()]})
    assert 'name="form_token" value="tok1"' in refused.content.decode()
    assert "choose the photos again" in refused.content.decode()

    for _ in range(2):
        client.post("/listings/new/", {**listing_form_data(), "form_token": "tok1",
                                       "photos": [image_upload()]})

    assert Listing.objects.count() == 1


def test_a_buyer_cannot_list_and_a_stranger_is_sent_to_log_in(client):
    assert client.post("/listings/new/", {**listing_form_data(), "photos": image_upload()}).status_code == 302
    client.force_login(UserFactory())
    assert client.post("/listings/new/", {**listing_form_data(), "photos": image_upload()}).status_code == 403
    assert not Listing.objects.exists()


def test_the_sell_form_counts_against_the_photo_upload_limit(client, seller, settings):
    settings.PHOTO_UPLOAD_RATE_PER_SELLER = "1/h"

    assert sell(client, image_upload(), image_upload()).status_code == 302
    refused = sell(client, image_upload())

    assert refused.status_code == 429
    assert Listing.objects.count() == 1
