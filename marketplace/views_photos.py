"""The seller's photo page for a listing (/listings/<id>/photos/): add up to six photos,
reorder them, delete one. Thin: the rules live in marketplace.photos."""

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from core.errors import DomainError
from core.rate_limits import post_rate_limit
from marketplace import images
from marketplace.forms import MultipleFileField
from marketplace.models import MAX_STUB_PHOTOS
from marketplace.photos import (
    TooManyPhotos,
    photo_slot_chosen,
    stub_gallery,
    stub_photo_delete,
    stub_photo_move,
    stub_photo_place,
    stub_photos_add,
)
from marketplace.selectors import listing_visible_to
from marketplace.services import ListingNotFound


class PhotoUploadsTooFast(DomainError):
    code = "rate_limited"
    status = 429
    message = ("You have uploaded many photos in a short time. "
               "Please wait a while (up to an hour) and try again.")


def _upload_rate(setting_name: str):
    def rate(group, request):
        # Only a request carrying a file counts: editing a listing's words is no upload.
        return getattr(settings, setting_name) if request.FILES else None
    return rate


def photo_upload_rate_limit(view):
    """At most PHOTO_UPLOAD_RATE_PER_SELLER requests with photos per seller and
    PHOTO_UPLOAD_RATE_PER_IP per IP (each can carry several photos); then a 429. Put it under
    login_required (it counts per user)."""
    @ratelimit(group="marketplace.photo_upload.ip", key="ip", method="POST", block=False,
               rate=_upload_rate("PHOTO_UPLOAD_RATE_PER_IP"))
    @ratelimit(group="marketplace.photo_upload.user", key="user", method="POST", block=False,
               rate=_upload_rate("PHOTO_UPLOAD_RATE_PER_SELLER"))
    @wraps(view)
    def limited(request, *args, **kwargs):
        if getattr(request, "limited", False):
            raise PhotoUploadsTooFast()
        return view(request, *args, **kwargs)
    return limited


class PhotosForm(forms.Form):
    photos = MultipleFileField(
        label="Add photos",
        help_text=f"Up to {MAX_STUB_PHOTOS} in all: front, back, details. JPEG, PNG or WebP, "
                  f"{images.photo_limits_text()} each.",
    )


def _own_listing(request, pk):
    listing = listing_visible_to(listing_id=pk, viewer=request.user)
    if listing.seller_id != request.user.pk:
        raise ListingNotFound()
    return listing


@login_required
@require_http_methods(["GET", "POST"])
@photo_upload_rate_limit
@post_rate_limit("POST_RATE_PER_USER")
def listing_photos(request, pk):
    listing = _own_listing(request, pk)
    form = PhotosForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = stub_photos_add(
                listing_id=listing.pk, seller=request.user, files=form.cleaned_data["photos"]
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("photos", message)
        except TooManyPhotos as error:
            form.add_error("photos", error.message)
        else:
            messages.success(request, f"Added {added} photo{'s' if added != 1 else ''}; "
                                      "buyers see them once they are processed, in a few seconds.")
            return redirect("marketplace:listing_photos", pk=listing.pk)
    gallery = stub_gallery(stub=listing.stub)
    return render(
        request, "marketplace/listing_photos.html",
        {"listing": listing, "stub": listing.stub, "gallery": gallery, "form": form,
         "room": MAX_STUB_PHOTOS - len(gallery), "max_photos": MAX_STUB_PHOTOS},
        status=400 if form.errors else 200,
    )


def _photos_page_at(pk, position: int | None):
    """Back to the photo page, scrolled to (and the keyboard's next Tab starting from) the
    photo just moved."""
    url = reverse("marketplace:listing_photos", kwargs={"pk": pk})
    return redirect(f"{url}#photo-{position + 1}" if position is not None else url)


@login_required
@require_POST
@post_rate_limit("POST_RATE_PER_USER")
def listing_photo_move(request, pk):
    """`to` (a drag and drop: the photo named by `key` goes to that position) or `direction`
    (the Earlier/Later buttons, which work without JavaScript)."""
    if "to" in request.POST:
        stub_photo_place(listing_id=pk, seller=request.user, slot=request.POST.get("slot"),
                         key=request.POST.get("key", ""), to=request.POST.get("to"))
        return _photos_page_at(pk, None)
    up = request.POST.get("direction") == "up"
    stub_photo_move(listing_id=pk, seller=request.user, slot=request.POST.get("slot"), offset=-1 if up else 1)
    try:
        position = int(request.POST.get("slot")) + (-1 if up else 1)
    except (TypeError, ValueError):
        position = None
    return _photos_page_at(pk, max(position, 0) if position is not None else None)


@login_required
@require_http_methods(["GET", "POST"])
@post_rate_limit("POST_RATE_PER_USER")
def listing_photo_delete(request, pk):
    """GET asks (a page that shows the photo and names the consequence; no JavaScript needed);
    POST deletes. The photo is named by its key, so a second click deletes nothing else."""
    if request.method == "GET":
        listing = _own_listing(request, pk)
        gallery = stub_gallery(stub=listing.stub)
        slot = photo_slot_chosen(gallery, slot=request.GET.get("slot"), key=request.GET.get("key", ""))
        if slot is None:
            messages.info(request, "That photo was already deleted.")
            return redirect("marketplace:listing_photos", pk=pk)
        item = gallery[slot]
        return render(request, "marketplace/listing_photo_delete.html",
                      {"listing": listing, "stub": listing.stub, "item": item, "count": len(gallery)})
    deleted = stub_photo_delete(listing_id=pk, seller=request.user, slot=request.POST.get("slot"),
                                key=request.POST.get("key", ""))
    if deleted:
        messages.success(request, "Photo deleted.")
    else:
        messages.info(request, "That photo was already deleted.")
    return redirect("marketplace:listing_photos", pk=pk)
