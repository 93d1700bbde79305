"""Order pages (/orders/, /orders/<id>/) and the order moves (/payments/orders/<id>/ship|complete/).

The moves answer JSON when JSON was sent or asked for; a form post from the order page gets a
redirect back with a message, so a double click shows "already shipped" instead of an error.
Only the order's buyer and seller see an order: everyone else gets 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.errors import Conflict
from core.middleware import asks_for_json
from core.rate_limits import post_rate_limit
from marketplace.pricing import format_usd as dollars
from payments.forms import ShipOrderForm
from payments.models import REFUND_WAITING_STATUSES, OrderStatus, Payment, RefundStatus
from payments.order_words import BUYER, SELLER, reader_of, status_words, timeline_lines
from payments.selectors import orders as selectors
from payments.selectors.money import sale_money
from payments.services.fulfilment import (
    ListingAlreadyBackOnSale,
    OrderAlreadyCompleted,
    OrderAlreadyShipped,
    OrderNotRelistable,
    order_complete,
    order_relist,
    order_ship,
)
from payments.services.notifications import shipping_lines
from payments.services.refunds import BUYER_NOTE_MAX_LENGTH, refund_reason_choices
from payments.services.snapshots import order_item
from payments.shipping import tracking_url
from payments.views.common import json_object, refuse_anonymous
from payments.views.refunds import refund_form_token

ORDERS_PER_PAGE = 20


def _input(request) -> dict:
    if request.content_type == "application/json":
        return json_object(request)
    return request.POST


def _order_json(order, *, reader: str) -> dict:
    return {
        "order_id": order.pk,
        "status": order.status,
        "status_display": status_words(order=order, reader=reader),
        "tracking_number": order.tracking_number,
        "shipping_carrier": order.shipping_carrier,
        "tracking_url": tracking_url(carrier=order.shipping_carrier, tracking_number=order.tracking_number),
    }


def _decorated(page, *, reader: str):
    """Display values on each row of a page (no extra queries)."""
    page.object_list = list(page.object_list)
    for order in page.object_list:
        order.amount_display = dollars(order.amount_cents)
        order.status_words = status_words(order=order, reader=reader)
    return page


@login_required
@require_GET
def order_list(request):
    """My purchases and my sales, each paginated on its own; no Sales panel for someone who
    neither sells nor ever sold."""
    purchases = Paginator(
        selectors.with_refund_waiting(selectors.orders_bought(user=request.user)), ORDERS_PER_PAGE
    )
    context = {"purchases": _decorated(purchases.get_page(request.GET.get("purchases_page")), reader=BUYER)}
    sales = Paginator(
        selectors.with_refund_waiting(selectors.orders_sold(user=request.user)), ORDERS_PER_PAGE
    )
    sales_page = _decorated(sales.get_page(request.GET.get("sales_page")), reader=SELLER)
    if request.user.is_seller or sales_page.object_list:
        context["sales"] = sales_page
    return render(request, "payments/order_list.html", context)


def _checkout_again(order, problem: str):
    url = reverse("payments_pages:checkout", args=[order.listing_id])
    return redirect(f"{url}?payment={problem}")


@login_required
@require_GET
def order_detail(request, order_id: int):
    order = selectors.order_for_party(order_id=order_id, user=request.user)
    is_seller = order.seller_id == request.user.pk
    is_buyer = order.buyer_id == request.user.pk
    reader = reader_of(order=order, user=request.user)
    unpaid = order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED)
    if is_buyer and unpaid and request.GET.get("redirect_status") == "failed":
        # Back from a 3-D Secure page that failed: the buyer belongs on the checkout, with a
        # plain message, not on an order page of Stripe codes.
        return _checkout_again(order, "authentication_failed")
    try:
        payment = order.payment
    except Payment.DoesNotExist:
        payment = None
    attempts, retried_by = selectors.order_attempts(order=order)
    # What Stripe has sent back, and what it has not yet: only the first is "Refunded".
    refunds = list(order.refunds.all())
    refunded_cents = sum(r.amount_cents for r in refunds if r.status == RefundStatus.SUCCEEDED)
    waiting_cents = sum(r.amount_cents for r in refunds if r.status in REFUND_WAITING_STATUSES)
    order.refund_waiting = bool(waiting_cents)
    actions = selectors.order_actions_for(order=order, user=request.user)
    context = {
        "order": order,
        # What the buyer paid for, frozen at payment; the live stub while the order is unpaid.
        "stub": order_item(order=order),
        "amount": dollars(order.amount_cents),
        "refunded": dollars(refunded_cents) if refunded_cents else "",
        "shipping_lines": shipping_lines(order),
        "shipping": dollars(order.shipping_cents) if order.shipping_cents else "",
        "item_price": dollars(order.amount_cents - order.shipping_cents),
        "tracking_url": tracking_url(carrier=order.shipping_carrier, tracking_number=order.tracking_number),
        "status_config": {
            "statusUrl": reverse("payments:order_status", args=[order.pk]),
            "status": order.status,
        },
        "payment": payment,
        "is_seller": is_seller,
        "is_buyer": is_buyer,
        "attempts": attempts,
        "retried_by": retried_by,
        "status_words": status_words(order=order, reader=reader),
        "timeline": timeline_lines(
            order=order, events=selectors.order_timeline(order=order, attempts=attempts), attempts=attempts,
            reader=reader,
        ),
        "can_ship": actions.can_ship,
        "can_complete": actions.can_complete,
        "can_refund": actions.can_refund,
        "refund_token": refund_form_token(),
        "refund_reasons": refund_reason_choices(user=request.user),
        "buyer_note_max": BUYER_NOTE_MAX_LENGTH,
        "refundable": dollars(payment.refundable_cents) if payment else "",
        "refund_on_its_way": dollars(waiting_cents) if waiting_cents else "",
        "can_relist": actions.can_relist,
        "ship_form": ShipOrderForm(),
        "from_checkout": request.GET.get("checkout") == "1",
        "waiting_for_payment": order.status == OrderStatus.PENDING_PAYMENT,
    }
    if is_seller:
        # The platform fee and the seller's share are the seller's business, never the buyer's.
        context["fee"] = dollars(order.application_fee_cents)
        context["seller_receives"] = dollars(order.seller_receives_cents)
        context["money"] = sale_money(order=order)
    return render(request, "payments/order_detail.html", context)


def _after_move(request, order, done_message: str):
    if asks_for_json(request):
        return JsonResponse(_order_json(order, reader=reader_of(order=order, user=request.user)))
    messages.success(request, done_message)
    return redirect("payments_pages:order_detail", order_id=order.pk)


def _already_done_answer(request, order_id, error: Conflict):
    """A double click: JSON 409, or back to the order page saying it is done already."""
    if asks_for_json(request):
        raise error
    messages.info(request, error.message)
    return redirect("payments_pages:order_detail", order_id=order_id)


@require_POST
@refuse_anonymous
@post_rate_limit("POST_RATE_PER_USER")
def order_ship_view(request, order_id: int):
    form = ShipOrderForm(data=_input(request))
    if not form.is_valid():
        return JsonResponse(
            {"error": {"code": "invalid", "message": "Check the carrier and the tracking number.",
                       "fields": form.errors.get_json_data()}},
            status=400,
        )
    try:
        order = order_ship(
            order_id=order_id, seller=request.user,
            tracking_number=form.cleaned_data["tracking_number"],
            carrier=form.cleaned_data["shipping_carrier"], request=request,
        )
    except (OrderAlreadyShipped, OrderAlreadyCompleted) as error:
        return _already_done_answer(request, order_id, error)
    return _after_move(request, order, "Marked as shipped. We have emailed the buyer.")


@require_POST
@refuse_anonymous
@post_rate_limit("POST_RATE_PER_USER")
def order_complete_view(request, order_id: int):
    try:
        order = order_complete(order_id=order_id, buyer=request.user, request=request)
    except (OrderAlreadyShipped, OrderAlreadyCompleted) as error:
        return _already_done_answer(request, order_id, error)
    return _after_move(
        request, order, "Thanks for confirming. Enjoy your stub! How did it go? Rate the seller below."
    )


@require_POST
@refuse_anonymous
@post_rate_limit("POST_RATE_PER_USER")
def order_relist_view(request, order_id: int):
    """The seller puts the stub of a shipped order refunded in full back on sale (it came back)."""
    try:
        listing = order_relist(order_id=order_id, seller=request.user, request=request)
    except ListingAlreadyBackOnSale as error:
        return _already_done_answer(request, order_id, error)
    except OrderNotRelistable as error:
        if asks_for_json(request):
            raise
        messages.error(request, error.message)
        return redirect("payments_pages:order_detail", order_id=order_id)
    if asks_for_json(request):
        return JsonResponse(
            {"order_id": order_id, "listing_id": listing.pk, "listing_status": listing.status}
        )
    messages.success(request, "Your stub is back on sale.")
    return redirect("payments_pages:order_detail", order_id=order_id)
