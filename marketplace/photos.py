"""Up to MAX_STUB_PHOTOS photos per stub: the cover (`Stub.photo` + `Stub.thumbnail`, what cards
and the API show) and up to five more (`StubPhoto`, e.g. the back and close-ups), in the
seller's order. Same validation as the cover always had (images.validate_stub_photo), and each
thumbnail is made once, at upload, never when a page is drawn.

Reordering moves file names between slots (the cover is slot 0), so no file is ever shared by
two slots and deleting one slot's files never breaks another's picture.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from marketplace import images
from marketplace.models import MAX_STUB_PHOTOS, Listing, Stub, StubPhoto
from marketplace.services import ListingNotFound
from stubcollector.errors import Conflict, DomainError


class TooManyPhotos(Conflict):
    code = "too_many_photos"
    message = f"A stub has at most {MAX_STUB_PHOTOS} photos; delete one first."


class PhotoNotFound(DomainError):
    code = "photo_not_found"
    status = 404
    message = "No such photo."


def _lock_own(listing_id, seller) -> Listing:
    try:
        mine = Listing.objects.select_for_update().select_related("stub")
        return mine.get(pk=int(listing_id), seller_id=getattr(seller, "pk", None))
    except (Listing.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ListingNotFound() from None


def stub_gallery(*, stub: Stub) -> list[dict]:
    """Every photo in order: [{"slot", "id", "image", "thumbnail"}], the cover first. One query."""
    slots = []
    if stub.photo:
        slots.append({"slot": 0, "id": None, "image": stub.photo, "thumbnail": stub.thumbnail or stub.photo})
    for photo in StubPhoto.objects.filter(stub=stub).order_by("position", "id"):
        slots.append({"slot": len(slots), "id": photo.pk, "image": photo.image, "thumbnail": photo.thumbnail})
    return slots


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
    existing = (1 if stub.photo else 0) + StubPhoto.objects.filter(stub=stub).count()
    if existing + len(files) > MAX_STUB_PHOTOS:
        raise TooManyPhotos(
            f"A stub has at most {MAX_STUB_PHOTOS} photos; this one has {existing}, "
            f"so add at most {max(MAX_STUB_PHOTOS - existing, 0)} more."
        )
    for upload in files:
        images.validate_stub_photo(upload)  # ValidationError: the form shows it, nothing written
    next_position = existing
    for upload in files:
        thumb_name, thumb_content = images.make_thumbnail(upload)
        name, content = images.reencode_photo(upload)  # upright, no metadata; never the upload
        if not stub.photo:
            stub.photo.save(name, content, save=False)
            stub.thumbnail.save(thumb_name, thumb_content, save=False)
            stub.save(update_fields=["photo", "thumbnail"])
        else:
            photo = StubPhoto(stub=stub, position=next_position)
            photo.image.save(name, content, save=False)
            photo.thumbnail.save(thumb_name, thumb_content, save=False)
            photo.save()
        next_position += 1
    _renumber(stub)
    return len(files)


def _swap(stub: Stub, a: dict, b: dict) -> None:
    """Exchange the files of two slots (slot 0 is the cover on the Stub row)."""
    def names(slot):
        if slot["id"] is None:
            return stub.photo.name, stub.thumbnail.name
        photo = StubPhoto.objects.get(pk=slot["id"])
        return photo.image.name, photo.thumbnail.name

    def put(slot, image_name, thumb_name):
        if slot["id"] is None:
            stub.photo.name, stub.thumbnail.name = image_name, thumb_name
            stub.save(update_fields=["photo", "thumbnail"])
        else:
            StubPhoto.objects.filter(pk=slot["id"]).update(image=image_name, thumbnail=thumb_name)

    a_names, b_names = names(a), names(b)
    put(a, *b_names)
    put(b, *a_names)


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


@transaction.atomic
def stub_photo_delete(*, listing_id, seller, slot: int) -> None:
    """Delete one photo; deleting the cover makes the next photo the cover."""
    listing = _lock_own(listing_id, seller)
    stub = listing.stub
    gallery = stub_gallery(stub=stub)
    try:
        slot = int(slot)
    except (TypeError, ValueError):
        raise PhotoNotFound() from None
    if not 0 <= slot < len(gallery):  # a negative index would pick a photo from the end
        raise PhotoNotFound()
    chosen = gallery[slot]
    storage = stub.photo.storage
    if chosen["id"] is None:
        gone = (stub.photo.name, stub.thumbnail.name)
        if len(gallery) > 1:
            follower = StubPhoto.objects.get(pk=gallery[1]["id"])
            stub.photo.name, stub.thumbnail.name = follower.image.name, follower.thumbnail.name
            follower.delete()
        else:
            stub.photo.name, stub.thumbnail.name = "", ""
        stub.save(update_fields=["photo", "thumbnail"])
    else:
        photo = StubPhoto.objects.get(pk=chosen["id"])
        gone = (photo.image.name, photo.thumbnail.name)
        photo.delete()
    _renumber(stub)
    # Bulk demo rows share pictures: only delete files no other stub still shows.
    in_use = [name for name in gone if name and (
        Stub.objects.filter(photo=name).exists() or StubPhoto.objects.filter(image=name).exists()
    )]
    transaction.on_commit(lambda: images.delete_files(storage, *[n for n in gone if n and n not in in_use]))


def photo_validation_messages(error: ValidationError) -> list[str]:
    return list(error.messages)
