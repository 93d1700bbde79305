"""A published photo is re-encoded, turned upright by its EXIF orientation,
and carries no metadata: no GPS position, camera, XMP, ICC profile or text chunks. Never the
uploaded bytes. Through the sell form, the edit form and the extra-photos page."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from accounts.tests.factories import SellerFactory
from marketplace.models import Listing, StubPhoto
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import photo_tasks_run
from marketplace.tests.test_listing_edit import listing_form_data

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE, MODEL = 0x010F, 0x0110
LEFT, RIGHT = (255, 0, 0), (0, 0, 255)  # red left half, blue right half (as stored)


def tagged_photo(image_format="JPEG", *, orientation=6, size=(200, 100)) -> SimpleUploadedFile:
    """A photo as a phone writes it: EXIF with camera, GPS and an orientation (6: the pixels
    must be turned 90° clockwise to be upright), plus XMP/text metadata where the format has it."""
    image = Image.new("RGB", size, LEFT)
    image.paste(RIGHT, (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Phone 15 Pro"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
    out = io.BytesIO()
    extra = {}
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "home address: 12 Analytical Row")
        extra["pnginfo"] = info
    if image_format in ("JPEG", "WEBP"):
        extra["xmp"] = b"<x:xmpmeta><rdf:Description GPSLatitude='51,30N'/></x:xmpmeta>"
    image.save(out, format=image_format, exif=exif.tobytes(), **extra)
    data = out.getvalue()
    assert b"PhoneMaker" in data  # the test photo really carries it
    content_type = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[image_format]
    return SimpleUploadedFile(f"IMG_0001.{image_format.lower()}", data, content_type=content_type)


def assert_clean_and_upright(name, image_format, original_size=(200, 100)):
    with default_storage.open(name) as stored:
        data = stored.read()
    for secret in (b"PhoneMaker", b"Phone 15 Pro", b"GPSLatitude", b"Analytical", b"Exif", b"xmpmeta"):
        assert secret not in data, secret
    image = Image.open(io.BytesIO(data))
    assert image.format == image_format
    assert not image.getexif()
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "Comment"} & set(image.info)
    # Orientation 6 applied: 200×100 stored becomes 100×200 upright, the red half on top.
    assert image.size == (original_size[1], original_size[0])
    rgb = image.convert("RGB")
    top, bottom = rgb.getpixel((50, 20)), rgb.getpixel((50, 180))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_a_new_listings_photo_is_published_upright_and_without_metadata(client, image_format):
    client.force_login(SellerFactory())

    with photo_tasks_run():
        response = client.post("/listings/new/",
                               {**listing_form_data(), "photos": tagged_photo(image_format)})

    assert response.status_code == 302
    stub = Listing.objects.get().stub
    assert_clean_and_upright(stub.photo.name, image_format)
    assert not stub.photo.name.endswith("IMG_0001." + image_format.lower())  # not the upload's name


def test_a_replaced_photo_is_published_without_metadata(client):
    listing = ListingFactory()
    client.force_login(listing.seller)

    with photo_tasks_run():
        response = client.post(
            f"/listings/{listing.pk}/edit/", {**listing_form_data(), "photo": tagged_photo("JPEG")}
        )

    assert response.status_code == 302
    listing.stub.refresh_from_db()
    assert_clean_and_upright(listing.stub.photo.name, "JPEG")


def test_extra_photos_are_published_without_metadata(client, settings, tmp_path):
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)

    with photo_tasks_run():
        response = client.post(
            f"/listings/{listing.pk}/photos/", {"photos": [tagged_photo("JPEG"), tagged_photo("PNG")]}
        )

    assert response.status_code == 302
    listing.stub.refresh_from_db()
    assert_clean_and_upright(listing.stub.photo.name, "JPEG")
    extra = StubPhoto.objects.get(stub=listing.stub)
    assert_clean_and_upright(extra.image.name, "PNG")
