"""Small real images for upload tests, made in memory with Pillow."""

import functools
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from PIL import Image

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


# Encoding an 800x600 picture costs ~10-20 ms of CPU and over a hundred uploads ask for the same
# few: each is encoded once per process (the bytes are immutable; every upload still gets its own
# file object).
@functools.cache
def image_bytes(image_format: str = "JPEG", size=(800, 600), colour=(200, 80, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=image_format)
    return out.getvalue()


def image_upload(image_format: str = "JPEG", size=(800, 600), name: str | None = None) -> SimpleUploadedFile:
    ext = {"JPEG": "jpg"}.get(image_format, image_format.lower())
    return SimpleUploadedFile(
        name or f"stub.{ext}", image_bytes(image_format, size), content_type=CONTENT_TYPES[image_format]
    )


def photo_tasks_run():
    """A block whose photo tasks run when it ends: an upload queues its task for after the
    commit, which a test's own transaction never reaches."""
    return TestCase.captureOnCommitCallbacks(execute=True)
