"""Listing photos in Chromium, at a phone's 390 px and a laptop's 1280 px: list a stub with three
photos in one go, put them in order by keyboard (and by dragging), delete one after confirming;
the listing page keeps a portrait photo within the screen, and its zoom steps through the photos
with the arrow keys and a swipe. The `page` fixture (e2e/conftest.py) fails a test on any console
error or Content Security Policy violation."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory
from e2e.browser import log_in
from marketplace.models import Listing
from marketplace.photos import stub_gallery, stub_photos_add
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_bytes, image_upload

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}


@pytest.fixture(params=list(WIDTHS))
def width(request) -> str:
    return request.param


@pytest.fixture
def browser_context_args(browser_context_args, width):
    """The conftest's checked `page`, in a context at the width under test."""
    return {**browser_context_args, "viewport": WIDTHS[width]}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def photo_file(name: str, image_format: str, size=(800, 600), colour=(200, 80, 40)) -> dict:
    mime = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[image_format]
    return {"name": name, "mimeType": mime, "buffer": image_bytes(image_format, size, colour)}


def gallery_formats(listing) -> list[str]:
    listing.stub.refresh_from_db()
    return [item["image"].name.rsplit(".", 1)[1] for item in stub_gallery(stub=listing.stub)]


def test_list_a_stub_with_three_photos_order_them_by_keyboard_and_delete_one(width, page, stripe_live, media):
    site = stripe_live.site_url
    account = stripe_live.seller_account()
    SellerFactory(username="maggie", stripe_account_id=account["id"])
    log_in(page, site, "maggie")

    page.goto(f"{site}/listings/new/")
    expect(page.get_by_label("Category")).to_have_value("")
    expect(page.locator("#id_category option:checked")).to_have_text("Choose a category")
    page.get_by_label("Event name").fill("Live Aid")
    page.get_by_label("Performer (optional)").fill("Queen")
    page.get_by_label("Venue").fill("Wembley Stadium")
    page.get_by_label("City").fill("London")
    page.get_by_label("Event date").fill("1985-07-13")
    page.get_by_label("Price (US$)").fill("120.50")
    page.get_by_label("Photos").set_input_files([
        photo_file("front.jpg", "JPEG"), photo_file("back.png", "PNG"), photo_file("detail.webp", "WEBP"),
    ])
    picked = page.locator("[data-photo-picked] li")
    expect(picked).to_have_text(["front.jpg (cover)", "back.png", "detail.webp"])
    page.get_by_role("button", name="List it").click()
    # No category chosen: the form says so (and nothing was guessed for it).
    expect(page.get_by_text("Choose a category.")).to_be_visible()
    assert not Listing.objects.exists()
    page.get_by_label("Category").select_option("concert")
    page.get_by_label("Photos").set_input_files([
        photo_file("front.jpg", "JPEG"), photo_file("back.png", "PNG"), photo_file("detail.webp", "WEBP"),
    ])
    page.get_by_role("button", name="List it").click()
    expect(page.get_by_text("Your stub is listed.")).to_be_visible()
    listing = Listing.objects.get()
    assert gallery_formats(listing) == ["jpg", "png", "webp"]

    # Reorder by keyboard: the Earlier button of photo 3, then again from where it landed.
    page.goto(f"{site}/listings/{listing.pk}/photos/")
    page.get_by_role("button", name="Move photo 3 earlier").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#photo-2$"))
    expect(page.locator("#photo-2")).to_be_focused()
    assert gallery_formats(listing) == ["jpg", "webp", "png"]
    page.keyboard.press("Tab")  # from the moved photo, on to its first control
    expect(page.get_by_role("button", name="Move photo 2 earlier")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#photo-1$"))
    assert gallery_formats(listing) == ["webp", "jpg", "png"]

    # Delete asks first, names the consequence, and Keep it keeps it.
    page.get_by_role("link", name="Delete photo 3").click()
    expect(page.get_by_role("heading", name=re.compile(r"Delete photo 3 of"))).to_be_visible()
    expect(page.locator("#delete-consequence")).to_contain_text("cannot be undone")
    page.get_by_role("link", name="Keep it").click()
    assert gallery_formats(listing) == ["webp", "jpg", "png"]
    page.get_by_role("link", name="Delete photo 3").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Delete photo 3").click()
    expect(page.get_by_text("Photo deleted.")).to_be_visible()
    expect(page.locator(".photo-slot")).to_have_count(2)
    assert gallery_formats(listing) == ["webp", "jpg"]
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_drag_a_photo_by_its_handle_to_the_front(width, page, stripe_live, media):
    site = stripe_live.site_url
    listing = ListingFactory(seller=SellerFactory(username="danny"), stub__photo="", stub__thumbnail="")
    stub_photos_add(listing_id=listing.pk, seller=listing.seller,
                    files=[image_upload(), image_upload("PNG"), image_upload("WEBP")])
    log_in(page, site, "danny")

    page.goto(f"{site}/listings/{listing.pk}/photos/")
    expect(page.get_by_text("Drag a photo by its")).to_be_visible()
    page.locator("#photo-1").evaluate("slot => slot.scrollIntoView({block: 'start'})")  # both in sight
    handle = page.locator("#photo-3 [data-drag-handle]")
    target = page.locator("#photo-1").bounding_box()
    start = handle.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + 20, target["y"] + 20, steps=8)
    with page.expect_navigation():
        page.mouse.up()
    assert gallery_formats(listing) == ["webp", "jpg", "png"]


def test_a_portrait_photo_fits_the_screen_and_zoom_steps_with_arrows_and_a_swipe(width, page, stripe_live,
                                                                                  media):
    site = stripe_live.site_url
    listing = ListingFactory(stub__event_name="Purple Rain", stub__photo="", stub__thumbnail="")
    stub_photos_add(listing_id=listing.pk, seller=listing.seller, files=[
        image_upload("JPEG", size=(900, 2400)), image_upload("PNG", size=(800, 600)),
        image_upload("WEBP", size=(600, 800)),
    ])
    page.goto(f"{site}/listings/{listing.pk}/")
    main = page.locator("#gallery-main")
    expect(main).to_have_attribute("src", re.compile(r"\.jpg$"))
    page.wait_for_function("document.getElementById('gallery-main').complete")
    box, viewport = main.bounding_box(), page.viewport_size
    assert box["height"] <= viewport["height"] * 0.75, box
    assert box["width"] <= viewport["width"]
    assert main.evaluate("img => getComputedStyle(img).objectFit") == "contain"

    page.get_by_role("link", name="Zoom into the photo").click()
    dialog = page.locator("#gallery-zoom-dialog")
    big = dialog.locator("img")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-zoom-counter]")).to_have_text("Photo 1 of 3")
    dialog_box = dialog.bounding_box()
    assert dialog_box["height"] <= viewport["height"] and dialog_box["width"] <= viewport["width"]

    page.keyboard.press("ArrowRight")
    expect(big).to_have_attribute("src", re.compile(r"\.png$"))
    expect(dialog.locator("[data-zoom-counter]")).to_have_text("Photo 2 of 3")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # from the first, back round to the last
    expect(big).to_have_attribute("src", re.compile(r"\.webp$"))
    dialog.get_by_role("button", name="Next photo").click()
    expect(big).to_have_attribute("src", re.compile(r"\.jpg$"))

    # A finger swiping right to left: the next photo.
    scroller = dialog.locator(".zoom-scroll")
    area = scroller.bounding_box()
    y = area["y"] + area["height"] / 2
    touch = {"pointerType": "touch", "pointerId": 7, "isPrimary": True, "clientY": y}
    scroller.dispatch_event("pointerdown", {**touch, "clientX": area["x"] + area["width"] * 0.8})
    scroller.dispatch_event("pointerup", {**touch, "clientX": area["x"] + area["width"] * 0.2})
    expect(big).to_have_attribute("src", re.compile(r"\.png$"))

    # Zoom in magnifies (bigger than it fitted), zoom out fits again.
    page.wait_for_function("document.querySelector('#gallery-zoom-dialog img').complete")
    fitted = big.bounding_box()["width"]
    dialog.get_by_role("button", name="Zoom in").click()
    assert big.bounding_box()["width"] >= fitted * 1.9
    dialog.get_by_role("button", name="Zoom out").click()
    assert abs(big.bounding_box()["width"] - fitted) < 2

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(main).to_have_attribute("src", re.compile(r"\.png$"))  # the page shows where zoom left off
