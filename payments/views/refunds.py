"""POST /payments/orders/<id>/refund/: staff with the refund permission or the order's seller
refunds all or part of an order. The same service as admin's button and action.

JSON bodies take cents (`{"amount": 1000, "reason": "damaged", "buyer_note": "Sorry!"}`; a
reason is one of Stripe's or one of ours, payments.services.refunds) and may send an
`Idempotency-Key` header; the order page's form takes dollars (`10.00`) and carries a one-time
token. Either way a repeat of the same request is the same refund.
"""

import uuid

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import DomainError, PermissionDenied
from core.middleware import asks_for_json
from core.rate_limits import post_rate_limit
from marketplace.pricing import InvalidDollarAmount, dollars_to_cents, format_usd
from payments.models import RefundApproval, RefundStatus
from payments.services.refunds import (
    InvalidRefundAmount,
    refund_amount_parse,
    refund_approval_message,
    refund_buyer_note_parse,
    refund_preview,
    refund_reason_label,
    refund_reason_parse,
    refund_request,
)
from payments.views.common import json_object


class InvalidJson(DomainError):
    code = "invalid_json"
    message = "The body is not a JSON object."


def refund_form_token() -> str:
    """A one-time token for a refund form: submitting the same form twice is one refund."""
    return uuid.uuid4().hex


def refund_as_dict(refund) -> dict:
    if isinstance(refund, RefundApproval):
        return {
            "id": refund.pk,
            "order_id": refund.order_id,
            "amount": refund.amount_cents,
            "reason": refund.reason,
            "marketplace_reason": refund.marketplace_reason,
            "status": "awaiting_approval",
            "message": refund_approval_message(refund),
        }
    return {
        "id": refund.pk,
        "order_id": refund.order_id,
        "refund_id": refund.stripe_refund_id,
        "amount": refund.amount_cents,
        "reason": refund.reason,
        "marketplace_reason": refund.marketplace_reason,
        "status": refund.status,
        "failure_reason": refund.failure_reason,
    }


@require_POST
@post_rate_limit("REFUND_RATE_PER_USER", group="payments.refunds")
def order_refund_view(request, order_id: int):
    if not request.user.is_authenticated:
        raise PermissionDenied("Log in to refund an order.", code="not_authenticated")
    if asks_for_json(request):
        refund = _refund(request, order_id)
        # 202: accepted, not refunded; Finance decides (payments.services.refunds._approval_open).
        status = 202 if isinstance(refund, RefundApproval) else 201
        return JsonResponse(refund_as_dict(refund), status=status)
    # The order page's form: first a confirmation with the amount as read ("Refund $1.50 of
    # $135.50?"), then a message on the order page, success or not. A stranger's 404 still goes
    # through the error middleware (the page is not theirs to return to).
    try:
        if "confirm" not in request.POST:
            return _refund_confirmation(request, order_id)
        refund = _refund(request, order_id)
    except DomainError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    else:
        amount = format_usd(refund.amount_cents)
        if isinstance(refund, RefundApproval):
            messages.warning(request, refund_approval_message(refund))
        elif refund.status == RefundStatus.SUCCEEDED:
            messages.success(request, f"Refund of {amount} issued to the buyer.")
        elif refund.status == RefundStatus.FAILED:
            messages.error(request, f"The refund of {amount} failed: {refund.failure_reason}.")
        else:
            messages.success(
                request,
                f"Refund of {amount} is pending: Stripe sends it once your Stripe balance can cover it.",
            )
    return redirect("payments_pages:order_detail", order_id=order_id)


def _refund_confirmation(request, order_id: int):
    amount = _dollars(request.POST.get("amount", ""))
    reason = refund_reason_parse(request.POST.get("reason"))
    buyer_note = refund_buyer_note_parse(request.POST.get("buyer_note", ""))
    preview = refund_preview(order_id=order_id, user=request.user, amount_cents=amount, reason=reason)
    cents = preview.amount_cents
    return render(
        request,
        "payments/refund_confirm.html",
        {
            "order": preview.order,
            "preview": preview,
            "paid_cents": preview.order.payment.amount_cents,
            "amount": f"{cents // 100}.{cents % 100:02d}",
            "reason": reason,
            "reason_label": refund_reason_label(reason),
            "buyer_note": buyer_note,
            "refund_token": request.POST.get("refund_token", "")[:64],
        },
    )


def _refund(request, order_id: int):
    if request.content_type == "application/json":
        body = json_object(request, invalid=InvalidJson)
        amount = refund_amount_parse(body.get("amount"))
        reason = refund_reason_parse(body.get("reason"))
        buyer_note = body.get("buyer_note", "")
        token = request.headers.get("Idempotency-Key", "")
    else:
        amount = _dollars(request.POST.get("amount", ""))
        reason = refund_reason_parse(request.POST.get("reason"))
        buyer_note = request.POST.get("buyer_note", "")
        token = request.POST.get("refund_token", "")
    return refund_request(
        order_id=order_id,
        actor=request.user,
        amount_cents=amount,
        reason=reason,
        buyer_note=buyer_note,
        request_token=token,
        request=request,
    )


def _dollars(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return dollars_to_cents(text)
    except InvalidDollarAmount as error:
        raise InvalidRefundAmount(str(error)) from None
