"""The demo's drawn ticket pictures (demo/catalogue.py)."""

import random

from PIL import Image, ImageChops, ImageStat

from demo.catalogue import PHOTO_SIZE, demo_stub, render_ticket, ticket_thumbnail
from marketplace.images import THUMBNAIL_SIZE


def test_a_ticket_thumbnail_fills_the_card_and_looks_as_lanczos_from_the_full_picture_would():
    picture = render_ticket(demo_stub(random.Random(1985)))
    assert picture.size == PHOTO_SIZE

    thumb = ticket_thumbnail(picture)

    assert thumb.size == THUMBNAIL_SIZE  # both 3:2
    fair = picture.copy()
    fair.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS, reducing_gap=None)
    assert max(ImageStat.Stat(ImageChops.difference(thumb, fair)).mean) < 2  # of 255 levels
    assert picture.size == PHOTO_SIZE  # the photo itself is left as drawn
