"""POST /payments/orders/<id>/refund/: staff or the order's seller refunds all or part of it."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from payments.services.refunds import order_refund, refund_amount_parse
from payments.views.common import json_object
from stubcollector.errors import DomainError, PermissionDenied
from stubcollector.middleware import asks_for_json


class InvalidJson(DomainError):
    code = "invalid_json"
    message = "The body is not a JSON object."

def _is_json(request) -> bool:
    return request.content_type == "application/json"

def _amount_input(request):
    if _is_json(request):
        return json_object(request, invalid=InvalidJson).get("amount")
    return request.POST.get("amount")


@require_POST
def order_refund_view(request, order_id: int):
    if not request.user.is_authenticated:
        raise PermissionDenied("Log in to refund an order.", code="not_authenticated")
    if asks_for_json(request):
        result = _refund(request, order_id)
        return JsonResponse(
            {"order_id": result.order.pk, "refund_id": result.refund_id, "amount": result.amount_cents,
             "status": result.status},
            status=201,
        )
    # The order page's form: answer with a message on that page, success or not. A stranger's
    # 404 still goes through the error middleware (the page is not theirs to return to).
    try:
        result = _refund(request, order_id)
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    else:
        dollars = f"${result.amount_cents / 100:,.2f}"
        messages.success(
            request, f"Refund of {dollars} sent to Stripe; the order updates when Stripe confirms it."
        )
    return redirect("payments_pages:order_detail", order_id=order_id)


def _refund(request, order_id: int):
    amount = refund_amount_parse(_amount_input(request))
    return order_refund(order_id=order_id, actor=request.user, amount_cents=amount, request=request)
