"""The photo page: a drag and drop puts a photo at a position (by its key, so an older page or a
second send moves nothing else), deleting asks first on a page of its own, cards show price and
shipping on one line, and the gallery's zoom has what it needs to step through the photos."""

import pytest

from marketplace.models import PhotoState
from marketplace.photos import stub_gallery, stub_photo_process, stub_photos_add
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload, photo_tasks_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def listing(client):
    """A listing with three ready photos: JPEG (cover), PNG, WebP; its seller logged in."""
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    with photo_tasks_run():
        stub_photos_add(listing_id=listing.pk, seller=listing.seller,
                        files=[image_upload(), image_upload("PNG"), image_upload("WEBP")])
    client.force_login(listing.seller)
    return listing


def names(listing) -> list[str]:
    listing.stub.refresh_from_db()
    return [item["image"].name.rsplit(".", 1)[1] for item in stub_gallery(stub=listing.stub)]


def key_of(listing, slot: int) -> str:
    listing.stub.refresh_from_db()
    return stub_gallery(stub=listing.stub)[slot]["key"]


def place(client, listing, **data):
    return client.post(f"/listings/{listing.pk}/photos/move/", data)


def test_a_dropped_photo_goes_to_its_new_place_and_the_others_keep_their_order(client, listing):
    response = place(client, listing, slot="2", key=key_of(listing, 2), to="0")

    assert response.status_code == 302
    assert names(listing) == ["webp", "jpg", "png"]
    listing.stub.refresh_from_db()
    assert listing.stub.thumbnail  # the cover's thumbnail moved with it


def test_sending_the_same_drop_twice_moves_once(client, listing):
    key = key_of(listing, 0)
    for _ in range(2):
        place(client, listing, slot="0", key=key, to="2")

    assert names(listing) == ["png", "webp", "jpg"]


def test_a_drop_from_an_older_page_moves_the_photo_the_seller_saw(client, listing):
    png = key_of(listing, 1)
    place(client, listing, slot="2", key=key_of(listing, 2), to="0")  # another tab: png is now 3rd

    place(client, listing, slot="1", key=png, to="0")

    assert names(listing) == ["png", "webp", "jpg"]


@pytest.mark.parametrize("to", ["abc", "", "1e9"])
def test_a_junk_position_is_a_400(client, listing, to):
    assert place(client, listing, slot="0", key=key_of(listing, 0), to=to).status_code == 400
    assert names(listing) == ["jpg", "png", "webp"]


def test_a_position_past_the_end_is_the_last(client, listing):
    place(client, listing, slot="0", key=key_of(listing, 0), to="99")
    assert names(listing) == ["png", "webp", "jpg"]


def test_earlier_and_later_still_work_and_land_on_the_moved_photo(client, listing):
    response = place(client, listing, slot="2", direction="up")

    assert response["Location"] == f"/listings/{listing.pk}/photos/#photo-2"
    assert names(listing) == ["jpg", "webp", "png"]


def test_a_stranger_cannot_reorder(client, listing):
    from accounts.tests.factories import SellerFactory

    client.force_login(SellerFactory())
    assert place(client, listing, slot="2", key=key_of(listing, 2), to="0").status_code == 404
    assert names(listing) == ["jpg", "png", "webp"]


def test_delete_asks_first_on_a_page_that_names_the_consequence(client, listing):
    page = client.get(f"/listings/{listing.pk}/photos/")
    link = f'href="/listings/{listing.pk}/photos/delete/?slot=0&amp;key={key_of(listing, 0)}"'
    assert link in page.content.decode()

    confirm = client.get(f"/listings/{listing.pk}/photos/delete/", {"slot": "0", "key": key_of(listing, 0)})

    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Delete photo 1 of" in html and "cannot be undone" in html and "Photo 2 becomes the cover" in html
    assert 'class="button button-danger"' in html
    assert names(listing) == ["jpg", "png", "webp"]  # asking deleted nothing


def test_a_confirmed_delete_clicked_twice_deletes_one_photo(client, listing):
    key = key_of(listing, 1)

    first = client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": "1", "key": key}, follow=True)
    second = client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": "1", "key": key}, follow=True)

    assert "Photo deleted." in first.content.decode()
    assert "That photo was already deleted." in second.content.decode()
    assert names(listing) == ["jpg", "webp"]


def test_the_confirmation_of_a_deleted_photo_says_so(client, listing):
    key = key_of(listing, 2)
    client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": "2", "key": key})

    response = client.get(f"/listings/{listing.pk}/photos/delete/", {"slot": "2", "key": key}, follow=True)

    assert "That photo was already deleted." in response.content.decode()


@pytest.mark.parametrize("slot", ["abc", "-1", "9", ""])
def test_junk_slots_on_the_confirmation_page_are_a_404(client, listing, slot):
    assert client.get(f"/listings/{listing.pk}/photos/delete/", {"slot": slot}).status_code == 404


def test_a_stranger_sees_no_confirmation_page_and_deletes_nothing(client, listing):
    from accounts.tests.factories import SellerFactory

    key = key_of(listing, 0)
    client.force_login(SellerFactory())
    assert client.get(f"/listings/{listing.pk}/photos/delete/", {"slot": "0", "key": key}).status_code == 404
    assert client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": "0", "key": key}).status_code == 404
    client.logout()
    assert client.get(f"/listings/{listing.pk}/photos/delete/", {"slot": "0"}).status_code == 302
    assert names(listing) == ["jpg", "png", "webp"]


def test_a_photo_keeps_its_key_from_upload_to_publication(client):
    """A confirmation page shown while the photo was processing still deletes that photo."""
    listing = ListingFactory(stub__photo="", stub__thumbnail="")
    client.force_login(listing.seller)
    stub_photos_add(listing_id=listing.pk, seller=listing.seller, files=[image_upload(), image_upload("PNG")])
    listing.stub.refresh_from_db()
    processing = stub_gallery(stub=listing.stub)
    assert [item["state"] for item in processing] == [PhotoState.PROCESSING] * 2

    listing.stub.refresh_from_db()
    for upload in [listing.stub.photo_upload.name, *listing.stub.photos.values_list("upload", flat=True)]:
        assert stub_photo_process(upload_name=upload) == "ready"
    listing.stub.refresh_from_db()
    assert [item["key"] for item in stub_gallery(stub=listing.stub)] == [item["key"] for item in processing]

    client.post(f"/listings/{listing.pk}/photos/delete/", {"slot": "1", "key": processing[1]["key"]})
    assert names(listing) == ["jpg"]


def test_cards_show_price_and_shipping_on_one_line(client):
    ListingFactory(price_cents=7050, shipping_cents=400, stub__event_name="Paid post")
    ListingFactory(price_cents=2000, shipping_cents=0, stub__event_name="Free post")

    html = client.get("/").content.decode()

    assert ('<span class="card-price"><span class="price">$70.50</span> '
            '<span class="muted small">+ $4.00 shipping</span></span>') in html
    assert '<span class="price">$20.00</span> <span class="muted small">Free shipping</span>' in html


def test_the_zoom_dialog_offers_previous_next_and_magnify(client, listing):
    html = client.get(f"/listings/{listing.pk}/").content.decode()

    for control in ('data-zoom-step="-1"', 'data-zoom-step="1"', "data-zoom-magnify", "data-close"):
        assert control in html
