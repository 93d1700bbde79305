"""Stub photos: strict validation of uploads with Pillow, the re-encoded photo we publish
(upright, without metadata) and the browse-grid thumbnail.

Validation reads only the file's header (format, width, height): it never decodes pixels, so an
upload costs the request next to no CPU whatever the file claims to hold. Decoding, re-encoding
and the thumbnail happen once, in the photo task (marketplace.tasks), under a time limit and
within the pixel budget that validation enforced.
"""

import contextlib
import io
import logging
import os
import uuid
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from core.storage import StorageUnavailable, storage_errors

logger = logging.getLogger(__name__)

MAX_PHOTO_SIDE = 4000
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
THUMBNAIL_SIZE = (480, 320)
THUMBNAIL_QUALITY = 80
PHOTO_QUALITY = 90


def photo_limits_text() -> str:
    """The limits in words, for help texts and messages."""
    megabytes = settings.PHOTO_MAX_BYTES / 1024 / 1024
    megapixels = settings.PHOTO_MAX_PIXELS / 1_000_000
    return (f"at most {megabytes:g} MB, {megapixels:g} megapixels and "
            f"{MAX_PHOTO_SIDE} pixels a side")


@contextlib.contextmanager
def _read_as_upload(fileobj):
    """Pillow at work on an upload: its decompression-bomb warning, and its errors for a file it
    cannot read, become the upload's ValidationError; the file is left at its start either way."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("The photo is too large to process.", code="photo_bomb") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(
            "That file is not a photo we can read. Upload a JPEG, PNG or WebP image.", code="photo_invalid"
        ) from None
    finally:
        fileobj.seek(0)


def validate_stub_photo(fileobj) -> str:
    """Raise ValidationError unless `fileobj` is a JPEG/PNG/WebP within our limits (bytes,
    sides, decoded pixels). Reads the header and walks the chunks; decodes no pixels.

    Returns the Pillow format name. Leaves the file positioned at its start.
    """
    size = getattr(fileobj, "size", None)
    if size is None:
        fileobj.seek(0, os.SEEK_END)
        size = fileobj.tell()
    if size > settings.PHOTO_MAX_BYTES:
        raise ValidationError(
            f"The photo is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{settings.PHOTO_MAX_BYTES / 1024 / 1024:g} MB.",
            code="photo_too_large",
        )
    with _read_as_upload(fileobj):
        fileobj.seek(0)
        image = Image.open(fileobj)  # the header only
        image_format = image.format
        width, height = image.size
        if image_format not in ALLOWED_FORMATS:
            raise ValidationError(
                "Upload a JPEG, PNG or WebP photo (this file is %(format)s).",
                code="photo_format",
                params={"format": image_format or "not an image"},
            )
        if width > MAX_PHOTO_SIDE or height > MAX_PHOTO_SIDE:
            raise ValidationError(
                f"The photo is {width}×{height} pixels; at most {MAX_PHOTO_SIDE}×{MAX_PHOTO_SIDE} please.",
                code="photo_dimensions",
            )
        if width * height > settings.PHOTO_MAX_PIXELS:
            raise ValidationError(
                f"The photo is {width}×{height} pixels ({width * height / 1_000_000:.1f} megapixels); "
                f"the limit is {settings.PHOTO_MAX_PIXELS / 1_000_000:g} megapixels. "
                "Scale it down and upload it again.",
                code="photo_pixels",
            )
        image.verify()  # the chunk structure and checksums; decodes nothing
    return image_format


def upload_name(image_format: str) -> str:
    """A fresh, unguessable file name in `image_format` for an upload awaiting the photo task and
    for the photo it publishes (never the client's)."""
    return f"{uuid.uuid4().hex}.{ALLOWED_FORMATS[image_format]}"


def _plain_mode(image):
    """RGB, or RGBA when the picture has transparency (palette and grey images included)."""
    if image.mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if "transparency" in image.info or image.mode in ("LA", "PA", "P") else "RGB")


def photo_render(fileobj) -> tuple[tuple[str, ContentFile], tuple[str, ContentFile]]:
    """The photo as we publish it and its browse-grid thumbnail, from one decode.

    The photo is encoded afresh in its own format, turned upright by its EXIF orientation, and
    carries no metadata at all (no EXIF, GPS position, camera, XMP, ICC profile or text chunks):
    the uploaded bytes are never published. The thumbnail is a WebP no larger than
    THUMBNAIL_SIZE. The expensive part (decoding every pixel): the photo task calls it, never a
    request. Raises ValidationError for a file Pillow cannot decode (truncated data, say).
    Returns (name, content) of the photo, then of the thumbnail.
    """
    image_format = validate_stub_photo(fileobj)
    with _read_as_upload(fileobj):
        fileobj.seek(0)
        image = Image.open(fileobj)
        image.load()
        image = _plain_mode(ImageOps.exif_transpose(image))
    clean = Image.new(image.mode, image.size)
    clean.paste(image)  # pixels only: the new image starts with empty info (no exif, icc, xmp)
    out = io.BytesIO()
    # No optimize=True: at compress level 9 with filter trials a large PNG took seconds of CPU.
    if image_format == "JPEG":
        clean.convert("RGB").save(out, format="JPEG", quality=PHOTO_QUALITY)
    elif image_format == "PNG":
        clean.save(out, format="PNG")
    else:
        clean.save(out, format="WEBP", quality=PHOTO_QUALITY, method=4)
    photo = (upload_name(image_format), ContentFile(out.getvalue()))
    clean.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    thumb_out = io.BytesIO()
    clean.save(thumb_out, format="WEBP", quality=THUMBNAIL_QUALITY, method=4)
    return photo, (f"{uuid.uuid4().hex}.webp", ContentFile(thumb_out.getvalue()))


def delete_files(storage, *names: str) -> None:
    """Delete files no row names any more, after the commit that let go of them. A storage that
    fails leaves the file behind (logged), never fails the request or task that already committed."""
    for name in names:
        if name:
            try:
                with storage_errors("deleting a photo file"):
                    storage.delete(name)
            except StorageUnavailable:
                logger.warning("Photo file %s was left in storage: the storage failed", name)
