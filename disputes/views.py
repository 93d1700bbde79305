"""POST /payments/orders/<id>/dispute/: the seller adds their side to a dispute (a note and the
tracking details), which staff see on the dispute's admin page and send with the evidence.
POST /payments/orders/<id>/dispute/files/: the seller attaches a document (multipart: `kind`,
`file`), uploaded to Stripe for the evidence (disputes/files.py).

A form post from the order page gets a redirect back with a message; JSON gets JSON. Anyone but
the order's seller gets 404; bad input 400 (a file too large 413); a closed dispute 409; the same
note or file twice is one.
"""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.middleware import asks_for_json
from core.rate_limits import post_rate_limit
from disputes.files import dispute_seller_evidence_file_attach
from disputes.services import dispute_seller_note_save
from payments.views.common import json_object, refuse_anonymous


@require_POST
@refuse_anonymous
@post_rate_limit("DISPUTE_RATE_PER_USER", group="payments.disputes")
def order_dispute_note_view(request, order_id: int):
    data = json_object(request) if request.content_type == "application/json" else request.POST
    dispute = dispute_seller_note_save(
        order_id=order_id, seller=request.user, note=data.get("note", ""),
        tracking_number=data.get("tracking_number", ""), request=request,
    )
    if asks_for_json(request):
        return JsonResponse({"order_id": order_id, "dispute_id": dispute.stripe_dispute_id,
                             "note": dispute.seller_note, "tracking_number": dispute.seller_tracking_number})
    messages.success(request, "Thanks: your side is saved; our team sends it to the bank with the evidence.")
    return redirect("payments_pages:order_detail", order_id=order_id)


@require_POST
@refuse_anonymous
@post_rate_limit("DISPUTE_EVIDENCE_UPLOAD_RATE_PER_USER", group="payments.dispute_evidence_files")
def order_dispute_file_view(request, order_id: int):
    attached = dispute_seller_evidence_file_attach(
        order_id=order_id, seller=request.user, kind=request.POST.get("kind", ""),
        upload=request.FILES.get("file"), request=request,
    )
    if asks_for_json(request):
        return JsonResponse({"order_id": order_id, "kind": attached.kind, "name": attached.name,
                             "size": attached.size, "stripe_file_id": attached.stripe_file_id}, status=201)
    messages.success(request, f"Attached “{attached.name}” ({attached.get_kind_display().lower()}); our team "
                              "sends it to the bank with the evidence.")
    return redirect(reverse("payments_pages:order_detail", args=[order_id]) + "#dispute")
