"""The seller's photo page for a listing (/listings/<id>/photos/): add up to six photos,
reorder them, delete one. Thin: the rules live in marketplace.photos."""

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from marketplace import images
from marketplace.models import MAX_STUB_PHOTOS
from marketplace.photos import (
    TooManyPhotos,
    stub_gallery,
    stub_photo_delete,
    stub_photo_move,
    stub_photos_add,
)
from marketplace.selectors import listing_visible_to
from marketplace.services import ListingNotFound
from stubcollector.errors import DomainError
from stubcollector.rate_limits import post_rate_limit


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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


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


@login_required
@require_POST
@post_rate_limit("POST_RATE_PER_USER")
def listing_photo_move(request, pk):
    offset = -1 if request.POST.get("direction") == "up" else 1
    stub_photo_move(listing_id=pk, seller=request.user, slot=request.POST.get("slot"), offset=offset)
    return redirect("marketplace:listing_photos", pk=pk)


@login_required
@require_POST
@post_rate_limit("POST_RATE_PER_USER")
def listing_photo_delete(request, pk):
    stub_photo_delete(listing_id=pk, seller=request.user, slot=request.POST.get("slot"))
    messages.success(request, "Photo deleted.")
    return redirect("marketplace:listing_photos", pk=pk)
