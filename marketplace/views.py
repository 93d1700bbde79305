"""Marketplace pages: browse, listing detail, sell/edit/withdraw, public seller page.

Thin: parse the input with a form, call a selector or service, render. Domain errors raised by
services become error pages in DomainErrorMiddleware.
"""

import uuid
from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.rate_limits import post_rate_limit
from marketplace.forms import ListingForm, parse_listing_filters
from marketplace.listing_reads import listing_page_keys
from marketplace.models import ListingStatus
from marketplace.more_from_seller import listing_more_from_seller
from marketplace.offer_terms import InvalidOfferMinimum, OfferTermsLocked, listing_offer_terms_set
from marketplace.page_cache import page_shows, read_ahead
from marketplace.personal import member_page_cache, page_not_shared_for, slots
from marketplace.photos import stub_gallery
from marketplace.pricing import platform_fee_percent
from marketplace.selectors import (
    listing_for_page,
    listing_page,
    listing_search,
    listing_visible_to,
    search_suggestion,
    seller_get_public,
    seller_listings_on_sale,
)
from marketplace.services import (
    ListingContentLocked,
    ListingNotFound,
    PriceLocked,
    listing_create_once,
    listing_purchase_blocker,
    listing_relist,
    listing_update,
    listing_withdraw,
)
from marketplace.shipping import ShippingLocked, listing_shipping_set
from marketplace.views_photos import photo_upload_rate_limit
from marketplace.watchlist import listings_mark_watched

BROWSE_PAGE_SIZE = 24
SELLER_PAGE_SIZE = 24


def _page(request, queryset, *, sort, per_page):
    """`page=abc` is page 1, a page past the numbered ones the last of them; never an error.

    No exact count and no deep OFFSET: see marketplace.selectors.listing_page.
    """
    return listing_page(queryset, sort=sort, per_page=per_page, page=request.GET.get("page"),
                        after=request.GET.get("after"))


def _query_without_page(request, *, q: str | None = None) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("after", None)
    if q:
        params["q"] = q
    return params.urlencode()


def _mark_watched(request, listings) -> list:
    """The hearts' state, unless the page is drawn to be shared (each request fills its own)."""
    return listings_mark_watched(listings=listings, user=None if slots(request) is not None else request.user)


NARROWING_FILTERS = ("q", "category", "min_price", "max_price", "date_from", "date_to", "min_rating")


@member_page_cache
def browse(request):
    """Invalid filters are shown as form errors (status 400) and left out; the rest still apply."""
    form, filters = parse_listing_filters(request.GET)
    page = _page(request, listing_search(filters=filters), sort=filters.sort, per_page=BROWSE_PAGE_SIZE)
    suggestion = None
    if filters.q and not page.object_list and not request.GET.get("after"):
        # A typo finds nothing: show what the closest spelling finds, and say so.
        suggestion = search_suggestion(text=filters.q)
        if suggestion:
            filters = replace(filters, q=suggestion)
            page = _page(request, listing_search(filters=filters), sort=filters.sort,
                         per_page=BROWSE_PAGE_SIZE)
    page_shows(request, listings=page.object_list)
    context = {
        "form": form,
        "page": page,
        "suggestion": suggestion,
        "listings": _mark_watched(request, page.object_list),
        "query": _query_without_page(request, q=suggestion),
        "filtered": any(request.GET.get(name) for name in NARROWING_FILTERS),
    }
    return render(request, "marketplace/browse.html", context, status=400 if form.errors else 200)


WITHDRAWABLE = (ListingStatus.ACTIVE, ListingStatus.RESERVED, ListingStatus.DRAFT)


@member_page_cache
def listing_detail(request, pk):
    listing = listing_for_page(listing_id=pk, viewer=request.user)
    # What the page's parts read from the cache (more from the seller, the seller's reputation, the
    # sold prices), in one round trip instead of one each.
    with read_ahead(listing_page_keys(listing)):
        return _listing_detail(request, listing)


def _listing_detail(request, listing):
    blocker = listing_purchase_blocker(listing=listing, buyer=request.user)
    is_owner = request.user.is_authenticated and request.user.pk == listing.seller_id
    more = listing_more_from_seller(listing=listing)
    shared = slots(request) is not None
    listing.is_watched = (not shared and request.user.is_authenticated
                          and listing.watches.filter(user=request.user).exists())
    page_shows(request, listings=[listing, *more])
    # The seller sees their own panel; the holder of a live reservation may buy it.
    holder = listing.reserved_by_id if listing.reservation_is_live(timezone.now()) else None
    page_not_shared_for(request, listing.seller_id, holder)
    if shared:
        slots(request)["purchase"] = listing
    return render(
        request,
        "marketplace/listing_detail.html",
        {
            "listing": listing,
            "stub": listing.stub,
            "gallery": stub_gallery(
                stub=listing.stub, public=not is_owner, more_photos=listing.has_more_photos
            ),
            "more_from_seller": _mark_watched(request, more),
            "blocker": blocker,
            "shared": shared,
            "is_owner": is_owner,
            "can_withdraw": is_owner and listing.status in WITHDRAWABLE,
            "can_relist": is_owner and listing.status in (ListingStatus.WITHDRAWN, ListingStatus.DRAFT),
        },
    )


def _not_a_seller(request):
    return render(request, "marketplace/not_a_seller.html", status=403)


def _render_form(request, form, *, listing):
    # A new listing's form carries a one-time token (listing_create_once): kept across a
    # form that comes back with errors, so the corrected send is still one listing.
    token = "" if listing else (request.POST.get("form_token", "")[:64] or uuid.uuid4().hex)
    return render(
        request,
        "marketplace/listing_form.html",
        {"form": form, "listing": listing, "fee_percent": platform_fee_percent(), "form_token": token},
        status=400 if form.errors else 200,
    )


def _form_error_from(form, error: ValidationError):
    photo_field = "photos" if "photos" in form.fields else "photo"
    for message in error.messages:
        form.add_error(photo_field if error.code and error.code.startswith("photo") else None, message)


@login_required
@photo_upload_rate_limit
@post_rate_limit("POST_RATE_PER_USER")
def listing_create_view(request):
    if not request.user.is_seller:
        return _not_a_seller(request)
    form = ListingForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            listing = listing_create_once(
                token=request.POST.get("form_token", ""),
                seller=request.user,
                price_cents=form.price_cents,
                photos=form.cleaned_data["photos"],
                **form.stub_fields(),
            )
            listing_shipping_set(
                listing_id=listing.pk, seller=request.user, shipping_cents=form.shipping_cents
            )
            listing_offer_terms_set(
                listing_id=listing.pk, seller=request.user,
                enabled=form.cleaned_data["accept_offers"], minimum_cents=form.offer_minimum_cents,
            )
        except ValidationError as error:
            _form_error_from(form, error)
        else:
            messages.success(request, "Your stub is listed.")
            if not request.user.can_accept_payments:
                messages.warning(
                    request,
                    "Buyers cannot pay you yet: finish setting up payments on your dashboard, and "
                    "your stubs will show on the browse page.",
                )
            return redirect("marketplace:listing_detail", pk=listing.pk)
    return _render_form(request, form, listing=None)


@login_required
@photo_upload_rate_limit
@post_rate_limit("POST_RATE_PER_USER")
def listing_edit_view(request, pk):
    listing = listing_visible_to(listing_id=pk, viewer=request.user)
    if listing.seller_id != request.user.pk:
        raise ListingNotFound()
    form = ListingForm(request.POST or None, request.FILES or None, listing=listing)
    if request.method == "POST" and form.is_valid():
        try:
            listing_update(
                listing_id=listing.pk,
                seller=request.user,
                price_cents=form.price_cents,
                photo=form.cleaned_data.get("photo") or None,
                **form.stub_fields(),
            )
            listing_shipping_set(
                listing_id=listing.pk, seller=request.user, shipping_cents=form.shipping_cents
            )
            listing_offer_terms_set(
                listing_id=listing.pk, seller=request.user,
                enabled=form.cleaned_data["accept_offers"], minimum_cents=form.offer_minimum_cents,
            )
        except PriceLocked as error:  # the reservation began between form check and lock
            form.add_error("price", error.message)
        except ShippingLocked as error:
            form.add_error("shipping", error.message)
        except ListingContentLocked as error:
            form.add_error(None, error.message)
        except (InvalidOfferMinimum, OfferTermsLocked) as error:
            form.add_error("offer_minimum", error.message)
        except ValidationError as error:
            _form_error_from(form, error)
        else:
            messages.success(request, "Listing updated.")
            return redirect("marketplace:listing_detail", pk=listing.pk)
    return _render_form(request, form, listing=listing)


@login_required
@require_POST
@post_rate_limit("POST_RATE_PER_USER")
def listing_withdraw_view(request, pk):
    listing = listing_withdraw(listing_id=pk, seller=request.user)
    messages.success(request, "The listing is withdrawn; buyers no longer see it.")
    return redirect("marketplace:listing_detail", pk=listing.pk)


@login_required
@require_POST
@post_rate_limit("POST_RATE_PER_USER")
def listing_relist_view(request, pk):
    listing = listing_relist(listing_id=pk, seller=request.user)
    messages.success(request, "The listing is back on sale.")
    return redirect("marketplace:listing_detail", pk=listing.pk)


@member_page_cache
def seller_profile(request, username):
    seller = seller_get_public(username=username)
    page = _page(request, seller_listings_on_sale(seller=seller), sort="newest", per_page=SELLER_PAGE_SIZE)
    page_shows(request, listings=page.object_list, sellers=[seller])
    return render(
        request,
        "marketplace/seller_profile.html",
        {"seller": seller, "page": page, "query": "",
         "listings": _mark_watched(request, page.object_list)},
    )
