"""Stub photos: strict validation of uploads with Pillow, the re-encoded photo we publish
(upright, without metadata) and the browse-grid thumbnail."""

import io
import os
import uuid
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_SIDE = 4000
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
THUMBNAIL_SIZE = (480, 320)
THUMBNAIL_QUALITY = 80


def _open_checked(fileobj):
    """Open an image, turning Pillow's decompression-bomb warning into a refusal."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(fileobj)


def validate_stub_photo(fileobj) -> str:
    """Raise ValidationError unless `fileobj` is a real JPEG/PNG/WebP within our limits.

    Returns the Pillow format name. Leaves the file positioned at its start.
    """
    size = getattr(fileobj, "size", None)
    if size is None:
        fileobj.seek(0, os.SEEK_END)
        size = fileobj.tell()
    if size > MAX_PHOTO_BYTES:
        raise ValidationError(
            f"The photo is {size / 1024 / 1024:.1f} MB; the limit is 5 MB.", code="photo_too_large"
        )
    try:
        fileobj.seek(0)
        image = _open_checked(fileobj)
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
        image.verify()  # structure check; the image cannot be used after verify()
        fileobj.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.open(fileobj).load()  # reopen and decode fully: catches truncated data
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("The photo is too large to process.", code="photo_bomb") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(
            "That file is not a photo we can read. Upload a JPEG, PNG or WebP image.", code="photo_invalid"
        ) from None
    finally:
        fileobj.seek(0)
    return image_format


PHOTO_QUALITY = 90


def _plain_mode(image):
    """RGB, or RGBA when the picture has transparency (palette and grey images included)."""
    if image.mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if "transparency" in image.info or image.mode in ("LA", "PA", "P") else "RGB")


def reencode_photo(fileobj) -> tuple[str, ContentFile]:
    """The photo as we publish it: decoded and encoded afresh in its own format, turned upright
    by its EXIF orientation, and carrying no metadata at all (no EXIF, GPS position, camera,
    XMP, ICC profile or text chunks). The uploaded bytes are never stored as they came.

    Call it after validate_stub_photo. Returns a fresh storage name and the new content.
    """
    fileobj.seek(0)
    image = _open_checked(fileobj)
    image_format = image.format
    image = _plain_mode(ImageOps.exif_transpose(image))
    clean = Image.new(image.mode, image.size)
    clean.paste(image)  # pixels only: the new image starts with empty info (no exif, icc, xmp)
    out = io.BytesIO()
    if image_format == "JPEG":
        clean.convert("RGB").save(out, format="JPEG", quality=PHOTO_QUALITY, optimize=True)
    elif image_format == "PNG":
        clean.save(out, format="PNG", optimize=True)
    else:
        image_format = "WEBP"
        clean.save(out, format="WEBP", quality=PHOTO_QUALITY, method=4)
    fileobj.seek(0)
    return f"{uuid.uuid4().hex}.{ALLOWED_FORMATS[image_format]}", ContentFile(out.getvalue())


def make_thumbnail(fileobj) -> tuple[str, ContentFile]:
    """A WebP no larger than THUMBNAIL_SIZE, oriented by EXIF, for the browse grid."""
    fileobj.seek(0)
    image = _open_checked(fileobj)
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("LA", "P") else "RGB")
    image.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=THUMBNAIL_QUALITY, method=4)
    fileobj.seek(0)
    return f"{uuid.uuid4().hex}.webp", ContentFile(out.getvalue())


def delete_files(storage, *names: str) -> None:
    for name in names:
        if name:
            storage.delete(name)
