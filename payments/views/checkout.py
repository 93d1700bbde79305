"""Checkout: the page with the shipping form and the Payment Element, and its JSON routes.

Thin: parse, call `payments.services.checkout`, answer. DomainErrors raised here become the
house JSON error or the error page, as the client asked, in DomainErrorMiddleware.
"""


from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from core.errors import error_payload
from core.site import absolute_url
from marketplace.models import Listing, ListingStatus
from marketplace.pricing import format_usd
from marketplace.services import listing_purchase_blocker
from payments.agreed_prices import listing_price_for
from payments.forms import SHIPPING_FIELDS, CreatePaymentIntentForm, ShippingAddressForm
from payments.models import OrderStatus
from payments.order_words import reader_of, status_words
from payments.selectors import orders as selectors
from payments.services.checkout import checkout_start
from payments.views.common import json_object, refuse_anonymous

PAYMENT_INTENT_RATE_PER_USER = "20/m"
PAYMENT_INTENT_RATE_PER_IP = "60/m"

# Why the buyer is back on the checkout page (`?payment=…`), in plain words.
CHECKOUT_PROBLEMS = {
    "authentication_failed": (
        "Your bank did not confirm the payment (3-D Secure), so nothing was charged. "
        "You can try again or use another card."
    ),
    "failed": "The payment was not completed, so nothing was charged. You can try again or use another card.",
}

# Short names a client may use inside a nested "shipping" object.
SHORT_SHIPPING_NAMES = {name.removeprefix("shipping_"): name for name in SHIPPING_FIELDS}


def _json_body(request) -> dict:
    body = json_object(request)
    nested = body.pop("shipping", None)
    if isinstance(nested, dict):
        # {"shipping": {"name": …, "line1": …}} is accepted as well as flat shipping_* keys.
        for key, value in nested.items():
            body.setdefault(SHORT_SHIPPING_NAMES.get(key, key), value)
    return body


def _last_shipping_address(user) -> dict:
    last = selectors.last_shipping_address(user=user)
    return {name: getattr(last, name) for name in SHIPPING_FIELDS} if last else {}


@login_required
@require_GET
def checkout_page(request, listing_id: int):
    listing = get_object_or_404(Listing.objects.select_related("stub", "seller"), pk=listing_id)
    hidden = listing.status in (ListingStatus.DRAFT, ListingStatus.WITHDRAWN)
    if hidden and listing.seller_id != request.user.pk:
        raise Http404("No such listing.")  # hidden from everyone but its seller, as on its own page
    blocker = listing_purchase_blocker(listing=listing, buyer=request.user)
    price_cents = listing_price_for(listing=listing, buyer_id=request.user.pk)
    # The buyer sees what they pay (price, shipping, total), never the platform's fee or the
    # seller's share: those are between the seller and us (the seller sees them on the order).
    context = {
        "listing": listing,
        "stub": listing.stub,
        "blocker": blocker,
        "price": format_usd(price_cents),
        "agreed": price_cents != listing.price_cents,  # an accepted offer's price
        "shipping": format_usd(listing.shipping_cents),
        "total": format_usd(price_cents + listing.shipping_cents),
        "reservation_minutes": settings.LISTING_RESERVATION_MINUTES,
        "payment_problem": CHECKOUT_PROBLEMS.get(request.GET.get("payment", "")),
        "form": ShippingAddressForm(initial=_last_shipping_address(request.user) or None),
        "checkout_config": {
            "listingId": listing.pk,
            "createUrl": reverse("payments:create_payment_intent"),
            "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
        },
    }
    return render(request, "payments/checkout.html", context, status=409 if blocker else 200)


@require_POST
@refuse_anonymous
@ratelimit(group="payments.pi_create.ip", key="ip", rate=PAYMENT_INTENT_RATE_PER_IP, block=True)
@ratelimit(group="payments.pi_create.user", key="user", rate=PAYMENT_INTENT_RATE_PER_USER, block=True)
def create_payment_intent(request):
    """`{"listing_id": N, "shipping_name": …}` → the order and its PaymentIntent's client secret.

    The amount comes from the listing; any amount or price in the request is ignored.
    """
    form = CreatePaymentIntentForm(data=_json_body(request))
    if not form.is_valid():
        payload = error_payload("invalid", "Some fields are invalid.", fields=form.errors.get_json_data())
        return JsonResponse(payload, status=400)
    checkout = checkout_start(
        listing_id=form.cleaned_data["listing_id"],
        buyer=request.user,
        shipping=form.shipping(),
        request=request,
    )
    order_url = reverse("payments_pages:order_detail", args=[checkout.order.pk])
    return JsonResponse(
        {
            **checkout.as_dict(),
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            # Where Stripe sends the buyer back after 3-D Secure: on SITE_URL, not the request's Host.
            "return_url": absolute_url(f"{order_url}?checkout=1"),
            "status_url": reverse("payments:order_status", args=[checkout.order.pk]),
        }
    )


@require_GET
@refuse_anonymous
def order_status(request, order_id: int):
    """What the return page polls until the webhook has marked the order paid."""
    order = selectors.order_for_party(order_id=order_id, user=request.user, related=False)
    return JsonResponse(
        {
            "order_id": order.pk,
            "status": order.status,
            "status_display": status_words(order=order, reader=reader_of(order=order, user=request.user)),
            "paid": order.paid_at is not None,
            "pending": order.status == OrderStatus.PENDING_PAYMENT,
        }
    )
