"""The problem report pages (docs/architecture.md, "Problem reports"): reporting on an order, the
report's page for its buyer and seller, and their steps (reply, refund, escalate, close), plus the
report's photos. Thin: the rules are in problems.services; a JSON client gets JSON, a form the
report's page with a message."""


from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.middleware import asks_for_json, login_first
from core.rate_limits import post_rate_limit
from core.storage import evidence_storage, storage_errors
from marketplace.models import PhotoState
from marketplace.pricing import InvalidDollarAmount, dollars_to_cents, format_usd
from messaging.selectors import conversation_messages
from messaging.services import STAFF_NAME
from payments.models import Order, RefundStatus
from payments.services.refunds import refund_preview
from payments.views.common import json_object
from payments.views.refunds import refund_form_token
from problems import selectors, services
from problems.models import (
    DESCRIPTION_MAX_CHARS,
    MAX_PROBLEM_PHOTOS,
    ProblemKind,
    ProblemPhoto,
    ProblemStatus,
)


def _input(request) -> dict:
    if request.content_type == "application/json":
        return json_object(request)
    return request.POST


def _text(data, key: str) -> str:
    value = data.get(key, "")
    return value if isinstance(value, str) else ""


def report_as_dict(report) -> dict:
    return {
        "id": report.pk,
        "order_id": report.order_id,
        "kind": report.kind,
        "status": report.status,
        "outcome": report.outcome,
        "seller_due_at": report.seller_due_at.isoformat(),
        "buyer_due_at": report.buyer_due_at.isoformat() if report.buyer_due_at else None,
        "refunded_cents": report.refunded_cents,
    }


def _done(request, report, text: str, *, status: int = 200):
    if asks_for_json(request):
        return JsonResponse(report_as_dict(report), status=status)
    messages.success(request, text)
    return redirect("problems:report", report.pk)


def _own_order(request, order_id) -> Order:
    try:
        order = Order.objects.select_related("listing__stub", "seller").get(pk=int(order_id))
    except (Order.DoesNotExist, ValueError, TypeError, OverflowError):
        raise DomainError("No such order.", code="order_not_found", status=404) from None
    if order.buyer_id != request.user.pk:
        raise DomainError("No such order.", code="order_not_found", status=404)
    return order


@require_http_methods(["GET", "POST"])
@login_first
@post_rate_limit("POST_RATE_PER_USER", group="problems.report")
def report_new_view(request, order_id: int):
    order = _own_order(request, order_id)
    existing = selectors.report_for_order(order=order)
    if existing is not None and request.method == "GET":
        return redirect("problems:report", existing.pk)
    if request.method == "POST":
        data = _input(request)
        try:
            report, created = services.problem_report_open(
                order_id=order.pk,
                buyer=request.user,
                kind=data.get("kind"),
                description=data.get("description"),
                photos=request.FILES.getlist("photos"),
                request=request,
            )
        except DomainError as error:
            if asks_for_json(request) or error.status == 404:
                raise
            return _new_page(request, order, error=error.message, status=error.status)
        if created:
            return _done(
                request, report, "Reported. We have told the seller; you will hear by email.", status=201
            )
        if asks_for_json(request):
            return JsonResponse({**report_as_dict(report), "duplicate": True})
        messages.info(request, "You reported a problem on this order already: here it is.")
        return redirect("problems:report", report.pk)
    return _new_page(request, order)


def _new_page(request, order, *, error: str = "", status: int = 200):
    data = request.POST if request.method == "POST" else {}
    return render(
        request,
        "problems/report_new.html",
        {
            "order": order,
            "stub": order.listing.stub,
            "kinds": [
                (value, label, value in services.problem_kinds_open(order=order))
                for value, label in ProblemKind.choices
            ],
            "chosen": data.get("kind", ""),
            "description": data.get("description", ""),
            "error": error,
            "max_chars": DESCRIPTION_MAX_CHARS,
            "max_photos": MAX_PROBLEM_PHOTOS,
            "not_received_from": services.not_received_from(order),
        },
        status=status,
    )


@require_GET
@login_first
def report_view(request, report_id: int):
    report = selectors.report_for_party(report_id=report_id, user=request.user)
    if asks_for_json(request):
        return JsonResponse(report_as_dict(report))
    is_seller = report.seller_id == request.user.pk
    context = {
        "report": report,
        "order": report.order,
        "stub": report.order.listing.stub,
        "is_seller": is_seller,
        "other": report.buyer if is_seller else report.seller,
        "thread": conversation_messages(conversation=report.conversation) if report.conversation_id else [],
        "photos": list(report.photos.all()),
        "staff_name": STAFF_NAME,
        "max_chars": DESCRIPTION_MAX_CHARS,
        "refund_token": refund_form_token(),
        "left_cents": None,
        "can_escalate": not is_seller and report.status == ProblemStatus.ANSWERED,
    }
    if is_seller and report.is_open:
        try:
            context["left_cents"] = refund_preview(
                order_id=report.order_id, user=request.user
            ).remaining_cents
        except DomainError:
            context["left_cents"] = 0
    return render(request, "problems/report.html", context)


@require_POST
@login_first
@post_rate_limit("POST_RATE_PER_USER", group="problems.step")
def reply_view(request, report_id: int):
    services.problem_reply(
        report_id=report_id, seller=request.user, body=_text(_input(request), "body"), request=request
    )
    report = selectors.report_for_party(report_id=report_id, user=request.user)
    return _done(request, report, "Your answer is sent to the buyer.")


def _amount_cents(request, data) -> int | None:
    if request.content_type == "application/json":
        return services.problem_amount_parse(data.get("amount"))
    text = _text(data, "amount").strip()
    if not text:
        return None
    try:
        return dollars_to_cents(text)
    except InvalidDollarAmount as error:
        raise services.InvalidProblemAmount(str(error)) from None


@require_POST
@login_first
@post_rate_limit("REFUND_RATE_PER_USER", group="payments.refunds")
def refund_view(request, report_id: int):
    data = _input(request)
    amount = _amount_cents(request, data)
    token = (
        request.headers.get("Idempotency-Key", "") if asks_for_json(request) else _text(data, "refund_token")
    )
    refund = services.problem_refund(
        report_id=report_id, seller=request.user, amount_cents=amount, request_token=token, request=request
    )
    report = selectors.report_for_party(report_id=report_id, user=request.user)
    if asks_for_json(request):
        return JsonResponse(
            {
                **report_as_dict(report),
                "refund": {"id": refund.pk, "status": refund.status, "amount": refund.amount_cents},
            },
            status=201,
        )
    if refund.status == RefundStatus.FAILED:
        messages.error(
            request, f"The refund of {format_usd(refund.amount_cents)} failed: {refund.failure_reason}."
        )
    else:
        messages.success(request, f"Refund of {format_usd(refund.amount_cents)} sent to the buyer.")
    return redirect("problems:report", report.pk)


@require_POST
@login_first
@post_rate_limit("POST_RATE_PER_USER", group="problems.step")
def escalate_view(request, report_id: int):
    report = services.problem_escalate(report_id=report_id, buyer=request.user, request=request)
    return _done(request, report, "Your report is with our Support team; we will email you when they decide.")


@require_POST
@login_first
@post_rate_limit("POST_RATE_PER_USER", group="problems.step")
def close_view(request, report_id: int):
    report = services.problem_close(report_id=report_id, buyer=request.user, request=request)
    return _done(request, report, "Your report is closed.")


@require_GET
@login_first
def photo_view(request, report_id: int, photo_id: int):
    """A report's photo (its thumbnail with ?size=thumb) for the report's buyer and seller, and for
    staff who may read reports (admin links here): private, never cached by a shared cache."""
    user = request.user
    if user.is_staff and user.has_perm("problems.view_problemreport"):
        photo = ProblemPhoto.objects.filter(pk=photo_id, report_id=report_id).first()
    else:
        report = selectors.report_for_party(report_id=report_id, user=user)
        photo = report.photos.filter(pk=photo_id).first()
    if photo is None or photo.state != PhotoState.READY:
        raise Http404("No such photo.")
    name = photo.thumbnail.name if request.GET.get("size") == "thumb" else photo.image.name
    with storage_errors("reading a problem photo"):
        kept = evidence_storage().open(name)
    response = FileResponse(kept, content_type=_content_type(name))
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _content_type(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower()
    return {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}.get(
        suffix, "application/octet-stream"
    )
