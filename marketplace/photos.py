"""Up to MAX_STUB_PHOTOS photos per stub: the cover (`Stub.photo` + `Stub.thumbnail`, what cards
and the API show) and up to five more (`StubPhoto`, e.g. the back and close-ups), in the
seller's order. Same validation as the cover always had (images.validate_stub_photo).

An upload is only checked (its header: format, size, pixels) and kept while the request runs;
the photo task (marketplace.tasks) decodes it once, publishes the re-encoded photo and its
thumbnail, and moves the slot from processing to ready (or failed). Pages show a placeholder
until then, never the upload itself.

Reordering moves file names between slots (the cover is slot 0), so no file is ever shared by
two slots and deleting one slot's files never breaks another's picture.

A photo whose task was lost (its worker SIGKILLed mid-decode, Redis restarted empty, the database
away when the task settled it) would stay processing for ever: beat's sweep
(`stub_photos_requeue_lost`) queues its task again once the upload has waited
PHOTO_REQUEUE_AFTER_SECONDS, and marks it failed past PHOTO_GIVE_UP_AFTER_SECONDS. The task is
safe to run twice: the first to settle the slot wins, the second finds no slot holding the
upload and deletes what it made.
"""

import hashlib
import logging
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError
from core.queue import enqueue_on_commit, enqueue_on_commit_or_run_here
from core.storage import StorageUnavailable, storage_errors
from marketplace import images
from marketplace.models import MAX_STUB_PHOTOS, Listing, PhotoState, Stub, StubPhoto
from marketplace.rules import ListingNotFound, listing_content_change_check

logger = logging.getLogger(__name__)

# The task that decodes an upload (marketplace.tasks), queued by name.
PHOTO_TASK = "marketplace.tasks.stub_photo_process_task"


class TooManyPhotos(Conflict):
    code = "too_many_photos"
    message = f"A stub has at most {MAX_STUB_PHOTOS} photos; delete one first."


class PhotoNotFound(DomainError):
    code = "photo_not_found"
    status = 404
    message = "No such photo."


class InvalidPhotoPosition(DomainError):
    code = "invalid_photo_position"
    message = "Say where the photo goes as a number (1 is the cover)."


def _lock_own(listing_id, seller) -> Listing:
    try:
        mine = Listing.objects.select_for_update().select_related("stub")
        listing = mine.get(pk=int(listing_id), seller_id=getattr(seller, "pk", None))
    except (Listing.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ListingNotFound() from None
    listing_content_change_check(listing=listing)  # every caller changes the photos
    return listing


def _has_cover(stub: Stub) -> bool:
    """A cover slot exists when there is a photo, or one processing or failed."""
    return bool(stub.photo) or stub.photo_state != PhotoState.READY


def _published_stem(upload_name: str) -> str:
    """The name (without extension) a processing upload is published under: derived from the
    upload's name, so the photo keeps its key (below) from upload to publication; one-way, so a
    published name never reveals where the raw upload (metadata and all) is kept meanwhile."""
    return hashlib.sha256(PurePosixPath(upload_name).stem.encode()).hexdigest()[:32]


def _photo_key(image_name: str, upload_name: str) -> str:
    """What names one photo while it moves between slots: pages send it back with a move or a
    delete, so a page older than the last change still acts on the photo the seller saw, and
    a second click acts on nothing. Empty for a failed slot (it has no file left)."""
    if upload_name:
        return _published_stem(upload_name)
    return PurePosixPath(image_name).stem if image_name else ""


def stub_gallery(*, stub: Stub, public: bool = False, more_photos: bool = True) -> list[dict]:
    """Every photo in order: [{"slot", "id", "key", "image", "thumbnail", "state"}], the cover
    first. One query, none when the caller knows the stub has no photo besides the cover
    (`more_photos` False, read with the stub: marketplace.selectors.listing_for_page). A
    processing slot has no image yet (pages draw a placeholder); `public` leaves out the failed
    ones, which only their seller sees."""
    slots = []
    if _has_cover(stub):
        slots.append({"slot": 0, "id": None, "image": stub.photo, "thumbnail": stub.thumbnail or stub.photo,
                      "state": stub.photo_state, "key": _photo_key(stub.photo.name, stub.photo_upload.name)})
    extra = StubPhoto.objects.filter(stub=stub).order_by("position", "id") if more_photos else ()
    for photo in extra:
        slots.append({"slot": len(slots), "id": photo.pk, "image": photo.image, "thumbnail": photo.thumbnail,
                      "state": photo.state, "key": _photo_key(photo.image.name, photo.upload.name)})
    if public:
        slots = [slot for slot in slots if slot["state"] != PhotoState.FAILED]
    return slots


COVER_FIELDS = ("photo", "thumbnail", "photo_state", "photo_upload")
EXTRA_FIELDS = ("image", "thumbnail", "state", "upload")


def _slot_values(stub: Stub, photo_id) -> tuple[str, str, str, str]:
    """(image, thumbnail, state, upload) of the cover (photo_id None) or of one extra photo."""
    if photo_id is None:
        return stub.photo.name, stub.thumbnail.name, stub.photo_state, stub.photo_upload.name
    photo = StubPhoto.objects.get(pk=photo_id)
    return photo.image.name, photo.thumbnail.name, photo.state, photo.upload.name


def _slot_put(stub: Stub, photo_id, values: tuple[str, str, str, str]) -> None:
    if photo_id is None:
        stub.photo.name, stub.thumbnail.name, stub.photo_state, stub.photo_upload.name = values
        stub.save(update_fields=COVER_FIELDS)
    else:
        photo = StubPhoto.objects.get(pk=photo_id)
        photo.image.name, photo.thumbnail.name, photo.state, photo.upload.name = values
        photo.save(update_fields=EXTRA_FIELDS)  # a save, not update(): cached pages move on


def _keep_for_processing(field_file, upload, image_format: str) -> None:
    """Store the checked upload under a fresh name for the photo task, queued for after the
    commit (with no broker it runs in-process then). The caller saves the row."""
    with storage_errors("keeping a photo upload"):
        field_file.save(images.upload_name(image_format), upload, save=False)
    # A task the broker refuses (Redis away) runs in this request rather than being lost: lost,
    # the seller would see "processing" until beat's sweep queued it again minutes later
    # (stub_photos_requeue_lost). Running it here is the cost of
    # eager mode, which already runs it in-process: one decode of an upload whose header was
    # checked (at most PHOTO_MAX_PIXELS), about a second at 12 MP, so at most MAX_STUB_PHOTOS
    # seconds in a request, well inside gunicorn's timeout, and only while the broker is away.
    enqueue_on_commit_or_run_here(PHOTO_TASK, upload_name=field_file.name)


def stub_cover_replace(*, stub: Stub, upload) -> None:
    """Make `upload` the stub's cover, processing until the photo task is done. Validates first
    (ValidationError, nothing written). No row write: the caller saves the stub and deletes the
    old cover's files."""
    image_format = images.validate_stub_photo(upload)
    stub.photo.name, stub.thumbnail.name, stub.photo_state = "", "", PhotoState.PROCESSING
    _keep_for_processing(stub.photo_upload, upload, image_format)


def _renumber(stub: Stub) -> list[StubPhoto]:
    extras = list(StubPhoto.objects.filter(stub=stub).order_by("position", "id"))
    for position, photo in enumerate(extras, start=1):
        if photo.position != position:
            photo.position = position
            photo.save(update_fields=["position"])
    return extras


@transaction.atomic
def stub_photos_add(*, listing_id, seller, files) -> int:
    """Add photos after the ones there are; the first becomes the cover when there is none.
    All are checked before any file is written. Returns how many were added."""
    listing = _lock_own(listing_id, seller)
    stub = listing.stub
    files = [f for f in files if f]
    existing = (1 if _has_cover(stub) else 0) + StubPhoto.objects.filter(stub=stub).count()
    if existing + len(files) > MAX_STUB_PHOTOS:
        raise TooManyPhotos(
            f"A stub has at most {MAX_STUB_PHOTOS} photos; this one has {existing}, "
            f"so add at most {max(MAX_STUB_PHOTOS - existing, 0)} more."
        )
    # ValidationError: the form shows it, nothing written. Headers only: no pixel is decoded here.
    formats = [images.validate_stub_photo(upload) for upload in files]
    next_position = existing
    for upload, image_format in zip(files, formats, strict=True):
        if not _has_cover(stub):
            stub.photo_state = PhotoState.PROCESSING
            _keep_for_processing(stub.photo_upload, upload, image_format)
            stub.save(update_fields=COVER_FIELDS)
        else:
            photo = StubPhoto(stub=stub, position=next_position, state=PhotoState.PROCESSING)
            _keep_for_processing(photo.upload, upload, image_format)
            photo.save()
        next_position += 1
    _renumber(stub)
    return len(files)


def _swap(stub: Stub, a: dict, b: dict) -> None:
    """Exchange the files and states of two slots (slot 0 is the cover on the Stub row). A
    processing upload moves with its slot: the photo task finds it by name wherever it is."""
    a_values, b_values = _slot_values(stub, a["id"]), _slot_values(stub, b["id"])
    _slot_put(stub, a["id"], b_values)
    _slot_put(stub, b["id"], a_values)


@transaction.atomic
def stub_photo_move(*, listing_id, seller, slot: int, offset: int) -> None:
    """Move the photo in `slot` by `offset` (-1 earlier, +1 later; slot 0 is the cover)."""
    listing = _lock_own(listing_id, seller)
    gallery = stub_gallery(stub=listing.stub)
    try:
        slot = int(slot)
    except (TypeError, ValueError):
        raise PhotoNotFound() from None
    target = slot + (1 if offset > 0 else -1)
    if not 0 <= slot < len(gallery):
        raise PhotoNotFound()
    if not 0 <= target < len(gallery):
        return  # already first or last: nothing to do (a double click)
    _swap(listing.stub, gallery[slot], gallery[target])


def photo_slot_chosen(gallery: list[dict], *, slot, key: str) -> int | None:
    """The slot the seller means: the one holding `key` when a key is given (None when no slot
    holds it any more: already deleted), else `slot` (PhotoNotFound for junk)."""
    if key:
        return next((item["slot"] for item in gallery if item["key"] == key), None)
    try:
        slot = int(slot)
    except (TypeError, ValueError):
        raise PhotoNotFound() from None
    if not 0 <= slot < len(gallery):  # a negative index would pick a photo from the end
        raise PhotoNotFound()
    return slot


@transaction.atomic
def stub_photo_place(*, listing_id, seller, slot=None, key: str = "", to) -> bool:
    """Put one photo at position `to` (0 is the cover; past the end is the last), the others
    keeping their order: what a drag and drop asks. The photo is the one holding `key` (else
    the one in `slot`). False when there was nothing to do: it is there already (a second
    submit) or it was deleted meanwhile."""
    listing = _lock_own(listing_id, seller)
    stub = listing.stub
    gallery = stub_gallery(stub=stub)
    try:
        to = min(max(int(to), 0), len(gallery) - 1)
    except (TypeError, ValueError, OverflowError):
        raise InvalidPhotoPosition() from None
    origin = photo_slot_chosen(gallery, slot=slot, key=key)
    if origin is None or origin == to:
        return False
    before = [_slot_values(stub, item["id"]) for item in gallery]
    after = list(before)
    after.insert(to, after.pop(origin))
    for item, old, new in zip(gallery, before, after, strict=True):
        if old != new:
            _slot_put(stub, item["id"], new)
    return True


@transaction.atomic
def stub_photo_delete(*, listing_id, seller, slot=None, key: str = "") -> bool:
    """Delete one photo: the one holding `key` (the page may be older than a move), else the
    one in `slot`; deleting the cover makes the next photo the cover. False when no slot holds
    `key` any more (a second click on a confirmed delete deletes nothing else)."""
    listing = _lock_own(listing_id, seller)
    stub = listing.stub
    gallery = stub_gallery(stub=stub)
    slot = photo_slot_chosen(gallery, slot=slot, key=key)
    if slot is None:
        return False
    chosen = gallery[slot]
    storage = stub.photo.storage
    if chosen["id"] is None:
        gone = (stub.photo.name, stub.thumbnail.name, stub.photo_upload.name)
        if len(gallery) > 1:
            follower = StubPhoto.objects.get(pk=gallery[1]["id"])
            _slot_put(stub, None, _slot_values(stub, follower.pk))
            follower.delete()
        else:
            _slot_put(stub, None, ("", "", PhotoState.READY, ""))
    else:
        photo = StubPhoto.objects.get(pk=chosen["id"])
        gone = (photo.image.name, photo.thumbnail.name, photo.upload.name)
        photo.delete()
    _renumber(stub)
    # Bulk demo rows share pictures: only delete files no other stub still shows.
    in_use = [name for name in gone if name and (
        Stub.objects.filter(photo=name).exists() or StubPhoto.objects.filter(image=name).exists()
    )]
    transaction.on_commit(lambda: images.delete_files(storage, *[n for n in gone if n and n not in in_use]))
    return True


def photo_validation_messages(error: ValidationError) -> list[str]:
    return list(error.messages)


# -- the photo task's side ------------------------------------------------------------------------


def _lock_upload_holder(upload_name: str) -> tuple[Stub, int | None] | None:
    """The stub and slot (None: the cover) holding `upload_name`, locked as the seller's own
    actions lock them (its listings, then the stub); None once it was deleted or replaced."""
    stub_id = (Stub.objects.filter(photo_upload=upload_name).values_list("pk", flat=True).first()
               or StubPhoto.objects.filter(upload=upload_name).values_list("stub_id", flat=True).first())
    if stub_id is None:
        return None
    list(Listing.objects.select_for_update().filter(stub_id=stub_id))
    stub = Stub.objects.select_for_update().get(pk=stub_id)
    if stub.photo_upload.name == upload_name:
        return stub, None
    photo_id = StubPhoto.objects.filter(stub=stub, upload=upload_name).values_list("pk", flat=True).first()
    return (stub, photo_id) if photo_id else None


def _settle(*, upload_name: str, values: tuple[str, str, str, str], made: tuple[str, ...] = ()) -> bool:
    """Give the slot holding `upload_name` its outcome and delete the upload after the commit.
    False when no slot holds it any more (the files just made are deleted then)."""
    with transaction.atomic():
        holder = _lock_upload_holder(upload_name)
        if holder is None:
            transaction.on_commit(lambda: images.delete_files(default_storage, *made))
            return False
        _slot_put(holder[0], holder[1], values)
        transaction.on_commit(lambda: images.delete_files(default_storage, upload_name))
    return True


def stub_photo_fail(*, upload_name: str) -> bool:
    """Mark the slot holding `upload_name` failed (its seller sees it and can delete it)."""
    return _settle(upload_name=upload_name, values=("", "", PhotoState.FAILED, ""))


def stub_photo_process(*, upload_name: str) -> str:
    """The photo task's work: decode the kept upload once, store the re-encoded photo and its
    thumbnail, then make the slot ready ("ready"); a file Pillow cannot decode makes it failed
    ("failed"); "gone" when the seller deleted or replaced it meanwhile. The decoding runs
    before any row is locked. StorageUnavailable when the storage cannot be read or written (the
    task tries again later)."""
    try:
        with storage_errors("reading a photo upload"), default_storage.open(upload_name) as upload:
            (name, content), (thumb_name, thumb_content) = images.photo_render(upload)
    except FileNotFoundError:
        # Settled meanwhile (its upload deleted), or a slot holds an upload that no longer
        # exists: nothing can ever publish it, so its seller sees it failed.
        return "failed" if stub_photo_fail(upload_name=upload_name) else "gone"
    except ValidationError as error:
        logger.warning("Photo upload %s could not be processed: %s", upload_name, "; ".join(error.messages))
        return "failed" if stub_photo_fail(upload_name=upload_name) else "gone"
    photo_field, thumb_field = Stub._meta.get_field("photo"), Stub._meta.get_field("thumbnail")
    name = f"{_published_stem(upload_name)}{PurePosixPath(name).suffix}"  # keeps the photo's key
    with storage_errors("publishing a photo"):
        name = default_storage.save(photo_field.generate_filename(None, name), content)
        thumb_name = default_storage.save(thumb_field.generate_filename(None, thumb_name), thumb_content)
    done = _settle(upload_name=upload_name, values=(name, thumb_name, PhotoState.READY, ""),
                   made=(name, thumb_name))
    return "ready" if done else "gone"


# At most this many processing photos of each kind are looked at a run, oldest first (problem
# reports' sweep too).
PHOTO_REQUEUE_BATCH = 100


def photo_requeue_claimed(photo: str) -> bool:
    """Whether the photo named so may have its task queued again now: True for the first caller
    in PHOTO_REQUEUE_AFTER_SECONDS (the cache remembers the rest). Problem reports' sweep too."""
    return cache.add(f"photo-requeued:{photo}", 1, timeout=settings.PHOTO_REQUEUE_AFTER_SECONDS)


def _upload_age(upload_name: str, *, now: datetime) -> timedelta | None:
    """How long ago the upload was kept; None when it no longer exists. Asked first, since S3
    answers a missing object's time with an error like any other (FileNotFoundError on disk)."""
    with storage_errors("reading a photo upload's age"):
        if not default_storage.exists(upload_name):
            return None
        return now - default_storage.get_modified_time(upload_name)


def stub_photos_requeue_lost(*, now: datetime | None = None) -> dict[str, int]:
    """Beat, every minute: the processing photos whose task was lost (module docstring). One
    whose upload has waited PHOTO_REQUEUE_AFTER_SECONDS has its task queued again, at most once
    per that long (a task retrying a storage outage holds its message that long: one duplicate,
    not one a minute); past PHOTO_GIVE_UP_AFTER_SECONDS it is marked failed, which its seller
    sees. The wait is the upload's age in the storage, which moves with the slot when photos
    are reordered. A storage that cannot be read ends the run: the next one tries again."""
    now = now or timezone.now()
    again = timedelta(seconds=settings.PHOTO_REQUEUE_AFTER_SECONDS)
    give_up = timedelta(seconds=settings.PHOTO_GIVE_UP_AFTER_SECONDS)
    uploads = [
        *Stub.objects.filter(photo_state=PhotoState.PROCESSING).exclude(photo_upload="")
        .order_by("pk").values_list("photo_upload", flat=True)[:PHOTO_REQUEUE_BATCH],
        *StubPhoto.objects.filter(state=PhotoState.PROCESSING).exclude(upload="")
        .order_by("pk").values_list("upload", flat=True)[:PHOTO_REQUEUE_BATCH],
    ]
    report = {"queued": 0, "failed": 0, "waiting": 0}
    for upload_name in uploads:
        try:
            waited = _upload_age(upload_name, now=now)
        except StorageUnavailable:
            break
        if waited is None:
            waited = again  # the upload is gone: its task marks the slot failed
        if waited > give_up:
            logger.warning("Photo upload %s still processing after %s; marked failed", upload_name, waited,
                           extra={"event": "photo.given_up", "upload": upload_name})
            report["failed"] += stub_photo_fail(upload_name=upload_name)
        elif waited >= again and photo_requeue_claimed(upload_name):
            logger.warning("Photo upload %s still processing after %s; its task is queued again",
                           upload_name, waited, extra={"event": "photo.requeued", "upload": upload_name})
            enqueue_on_commit(PHOTO_TASK, upload_name=upload_name)
            report["queued"] += 1
        else:
            report["waiting"] += 1
    return report
