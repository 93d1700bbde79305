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

from marketplace.pricing import format_usd as dollars
from payments import selectors
from payments.forms import ShipOrderForm
from payments.models import OrderStatus, Payment
from payments.services.fulfilment import (
    OrderAlreadyCompleted,
    OrderAlreadyShipped,
    order_complete,
    order_ship,
)
from payments.services.notifications import shipping_lines
from payments.views.common import json_object, refuse_anonymous
from stubcollector.errors import Conflict
from stubcollector.middleware import asks_for_json

ORDERS_PER_PAGE = 20

STATUS_BADGES = {
    OrderStatus.PAID: "badge-ok",
    OrderStatus.SHIPPED: "badge-ok",
    OrderStatus.COMPLETED: "badge-ok",
    OrderStatus.PENDING_PAYMENT: "badge-warn",
    OrderStatus.PARTIALLY_REFUNDED: "badge-warn",
    OrderStatus.DISPUTED: "badge-bad",
    OrderStatus.DISPUTE_LOST: "badge-bad",
    OrderStatus.PAYMENT_FAILED: "badge-bad",
    OrderStatus.CANCELLED: "",
    OrderStatus.REFUNDED: "",
}

REFUNDABLE_STATUSES = {
    OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED,
}


def _input(request) -> dict:
    if request.content_type == "application/json":
        return json_object(request)
    return request.POST


def _order_json(order) -> dict:
    return {
        "order_id": order.pk,
        "status": order.status,
        "status_display": order.get_status_display(),
        "tracking_number": order.tracking_number,
    }


def _decorated(page):
    """Display values on each row of a page (no extra queries)."""
    page.object_list = list(page.object_list)
    for order in page.object_list:
        order.amount_display = dollars(order.amount_cents)
        order.badge = STATUS_BADGES.get(order.status, "")
    return page


@login_required
@require_GET
def order_list(request):
    """My purchases and my sales, each paginated on its own."""
    purchases = Paginator(selectors.orders_bought(user=request.user), ORDERS_PER_PAGE)
    sales = Paginator(selectors.orders_sold(user=request.user), ORDERS_PER_PAGE)
    context = {
        "purchases": _decorated(purchases.get_page(request.GET.get("purchases_page"))),
        "sales": _decorated(sales.get_page(request.GET.get("sales_page"))),
    }
    return render(request, "payments/order_list.html", context)


def _labelled(timeline):
    for event in timeline:
        if event.action == "order.created":
            event.label = "Order placed"
        elif event.to_status in OrderStatus.values:
            event.label = OrderStatus(event.to_status).label
        else:
            event.label = event.action
    return timeline


@login_required
@require_GET
def order_detail(request, order_id: int):
    order = selectors.order_for_party(order_id=order_id, user=request.user)
    is_seller = order.seller_id == request.user.pk
    is_buyer = order.buyer_id == request.user.pk
    try:
        payment = order.payment
    except Payment.DoesNotExist:
        payment = None
    refunded_cents = payment.amount_refunded_cents if payment else 0
    can_ship = is_seller and order.shipped_at is None and order.status in (
        OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED
    )
    can_complete = is_buyer and order.completed_at is None and (
        order.status == OrderStatus.SHIPPED
        or (order.status == OrderStatus.PARTIALLY_REFUNDED and order.shipped_at is not None)
    )
    context = {
        "order": order,
        "stub": order.listing.stub,
        "amount": dollars(order.amount_cents),
        "fee": dollars(order.application_fee_cents),
        "seller_receives": dollars(order.seller_receives_cents),
        "refunded": dollars(refunded_cents) if refunded_cents else "",
        "shipping_lines": shipping_lines(order),
        "status_config": {
            "statusUrl": reverse("payments:order_status", args=[order.pk]),
            "status": order.status,
        },
        "payment": payment,
        "is_seller": is_seller,
        "is_buyer": is_buyer,
        "timeline": _labelled(selectors.order_timeline(order=order)),
        "badge": STATUS_BADGES.get(order.status, ""),
        "can_ship": can_ship,
        "can_complete": can_complete,
        "can_refund": is_seller and order.status in REFUNDABLE_STATUSES,
        "ship_form": ShipOrderForm(),
        "from_checkout": request.GET.get("checkout") == "1",
        "checkout_failed": request.GET.get("redirect_status") == "failed",
        "waiting_for_payment": order.status == OrderStatus.PENDING_PAYMENT,
    }
    return render(request, "payments/order_detail.html", context)


def _after_move(request, order, done_message: str):
    if asks_for_json(request):
        return JsonResponse(_order_json(order))
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
def order_ship_view(request, order_id: int):
    form = ShipOrderForm(data=_input(request))
    if not form.is_valid():
        return JsonResponse(
            {"error": {"code": "invalid", "message": "The tracking number is too long.",
                       "fields": form.errors.get_json_data()}},
            status=400,
        )
    try:
        order = order_ship(
            order_id=order_id, seller=request.user,
            tracking_number=form.cleaned_data["tracking_number"], request=request,
        )
    except (OrderAlreadyShipped, OrderAlreadyCompleted) as error:
        return _already_done_answer(request, order_id, error)
    return _after_move(request, order, "Marked as shipped. We have emailed the buyer.")


@require_POST
@refuse_anonymous
def order_complete_view(request, order_id: int):
    try:
        order = order_complete(order_id=order_id, buyer=request.user, request=request)
    except (OrderAlreadyShipped, OrderAlreadyCompleted) as error:
        return _already_done_answer(request, order_id, error)
    return _after_move(request, order, "Thanks for confirming. Enjoy your stub!")
