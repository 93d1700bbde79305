"""The offers pages (docs/architecture.md, "Offers"): making an offer from the listing page, the
buyer's and the seller's lists, an offer's page and its answers. Thin: the rules are in
offers.services. A typed amount (an offer, a counter) is confirmed on a second page before it
counts; an accept carries the amount its button showed, refused if the offer changed meanwhile.
A JSON client sends {"amount": "12.00"} and gets JSON, without the confirmation page."""


from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.middleware import asks_for_json, login_first
from core.money import DOLLARS_HELP, InvalidDollarAmount, dollars_to_cents, format_usd
from core.rate_limits import post_rate_limit, post_rate_limit_check
from marketplace.selectors import listing_visible_to
from offers import selectors, services
from offers.models import OfferStatus
from payments.views.common import json_object


class AmountRequired(DomainError):
    code = "invalid_amount"
    message = DOLLARS_HELP


def _input(request) -> dict:
    return json_object(request) if request.content_type == "application/json" else request.POST


def _text(data, name: str) -> str:
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def _amount_cents(data) -> int:
    """The typed dollars as cents, read by the one strict parser money forms use."""
    try:
        return dollars_to_cents(_text(data, "amount")[:32])
    except InvalidDollarAmount:
        raise AmountRequired() from None


def _confirmed(request, data) -> bool:
    return asks_for_json(request) or _text(data, "confirm") == "yes"


def _offer_json(offer, *, status: int = 200) -> JsonResponse:
    return JsonResponse(
        {
            "id": offer.pk,
            "listing_id": offer.listing_id,
            "status": offer.status,
            "amount": offer.amount_cents,
            "counter": offer.counter_cents,
            "agreed": offer.agreed_cents,
            "expires_at": offer.expires_at.isoformat() if offer.expires_at else None,
            "duplicate": getattr(offer, "duplicate", False),
        },
        status=status,
    )


def _done(request, offer, text: str, *, created: bool = False):
    if asks_for_json(request):
        return _offer_json(offer, status=201 if created and not offer.duplicate else 200)
    if offer.duplicate:
        messages.info(request, "That was done already.")
    else:
        messages.success(request, text)
    return redirect("offers:detail", offer.pk)


def _make_page(request, listing, *, error: str = "", amount: str = "", status: int = 200):
    return render(
        request,
        "offers/make.html",
        {"listing": listing, "stub": listing.stub, "error": error, "amount": amount,
         "hours": settings.OFFER_RESPONSE_HOURS},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_first
@post_rate_limit("POST_RATE_PER_USER")
def make_view(request, listing_id: int):
    listing = listing_visible_to(listing_id=listing_id, viewer=request.user)
    services.offer_allowed_check(listing=listing, buyer=request.user)
    if request.method == "GET":
        return _make_page(request, listing)
    data = _input(request)
    try:
        amount_cents = _amount_cents(data)
    except AmountRequired as error:
        if asks_for_json(request):
            raise
        typed = _text(data, "amount")[:32]
        return _make_page(request, listing, error=error.message, amount=typed, status=400)
    if not _confirmed(request, data):
        shipping = f", plus {format_usd(listing.shipping_cents)} shipping" if listing.shipping_cents else ""
        return _confirm_page(
            request,
            title="Confirm your offer",
            lines=[f"You offer {format_usd(amount_cents)} for {listing.stub.event_name}{shipping}.",
                   f"The seller has {settings.OFFER_RESPONSE_HOURS} hours to accept, decline or counter it. "
                   "If they accept, you pay that price at checkout."],
            action=reverse("offers:make", args=[listing.pk]),
            amount_cents=amount_cents,
            button=f"Offer {format_usd(amount_cents)}",
            back=reverse("marketplace:listing_detail", args=[listing.pk]),
        )
    # Offers made (not confirmation pages shown) count against OFFER_RATE_PER_USER: a buyer
    # cannot try prices quickly enough to find the seller's hidden minimum.
    post_rate_limit_check(request, group="offers.make", setting="OFFER_RATE_PER_USER")
    offer = services.offer_make(
        listing_id=listing.pk, buyer=request.user, amount_cents=amount_cents, request=request
    )
    if offer.status == OfferStatus.DECLINED and offer.declined_automatically:
        text = "The seller has declined this offer. You may offer a higher price."
        if asks_for_json(request):
            return _offer_json(offer, status=200 if offer.duplicate else 201)
        messages.warning(request, text)
        return redirect("offers:detail", offer.pk)
    return _done(request, offer, "Your offer was sent to the seller.", created=True)


def _confirm_page(request, *, title, lines, action, amount_cents, button, back):
    return render(
        request,
        "offers/confirm.html",
        {"title": title, "lines": lines, "action": action, "amount": f"{amount_cents / 100:.2f}",
         "button": button, "back": back},
    )


@require_GET
@login_first
def offers_view(request):
    return render(
        request,
        "offers/list.html",
        {
            "made": selectors.offers_made(buyer=request.user)[:100],
            "received": selectors.offers_received(seller=request.user)[:100],
            "max_open": settings.OFFERS_MAX_OPEN_PER_BUYER,
        },
    )


@require_GET
@login_first
def offer_view(request, offer_id: int):
    offer = selectors.offer_for_party(offer_id=offer_id, user=request.user)
    if offer.is_open and services.offer_expire_if_due(offer_id=offer.pk):
        offer = selectors.offer_for_party(offer_id=offer_id, user=request.user)
    listing = offer.listing
    is_buyer = offer.buyer_id == request.user.pk
    my_turn = offer.turn_of() == request.user.pk and offer.expires_at is not None
    held = (
        offer.status == OfferStatus.ACCEPTED
        and selectors.agreed_price(listing=listing, buyer_id=offer.buyer_id) is not None
    )
    return render(
        request,
        "offers/detail.html",
        {
            "offer": offer,
            "listing": listing,
            "stub": listing.stub,
            "is_buyer": is_buyer,
            "my_turn": my_turn,
            "on_the_table": f"{offer.on_the_table_cents / 100:.2f}",
            "held": held,
            "total_cents": offer.on_the_table_cents + listing.shipping_cents,
            "hours": settings.OFFER_RESPONSE_HOURS,
            "minutes": settings.LISTING_RESERVATION_MINUTES,
        },
    )


@require_POST
@login_first
@post_rate_limit("POST_RATE_PER_USER")
def accept_view(request, offer_id: int):
    data = _input(request)
    offer = services.offer_accept(
        offer_id=offer_id, user=request.user, amount_cents=_amount_cents(data), request=request
    )
    if offer.buyer_id == request.user.pk and not asks_for_json(request) and not offer.duplicate:
        messages.success(
            request, f"Accepted. The stub is yours at {format_usd(offer.agreed_cents)}: pay for it now."
        )
        return redirect("payments_pages:checkout", offer.listing_id)
    return _done(request, offer, "Accepted. The buyer has been told to pay for the stub now.")


@require_POST
@login_first
@post_rate_limit("POST_RATE_PER_USER")
def decline_view(request, offer_id: int):
    offer = services.offer_decline(offer_id=offer_id, user=request.user, request=request)
    return _done(request, offer, "Declined. The other side has been told.")


@require_POST
@login_first
@post_rate_limit("POST_RATE_PER_USER")
def counter_view(request, offer_id: int):
    offer = selectors.offer_for_party(offer_id=offer_id, user=request.user)
    data = _input(request)
    amount_cents = _amount_cents(data)
    if not _confirmed(request, data):
        return _confirm_page(
            request,
            title="Confirm your counter-offer",
            lines=[f"The buyer offered {format_usd(offer.amount_cents)} for {offer.listing.stub.event_name}; "
                   f"you ask {format_usd(amount_cents)} instead.",
                   f"The buyer has {settings.OFFER_RESPONSE_HOURS} hours to accept or decline it."],
            action=reverse("offers:counter", args=[offer.pk]),
            amount_cents=amount_cents,
            button=f"Counter at {format_usd(amount_cents)}",
            back=reverse("offers:detail", args=[offer.pk]),
        )
    offer = services.offer_counter(
        offer_id=offer.pk, seller=request.user, amount_cents=amount_cents, request=request
    )
    return _done(request, offer, "Your counter-offer was sent to the buyer.")


@require_POST
@login_first
@post_rate_limit("POST_RATE_PER_USER")
def withdraw_view(request, offer_id: int):
    offer = services.offer_withdraw(offer_id=offer_id, buyer=request.user, request=request)
    return _done(request, offer, "Your offer was withdrawn.")
