"""POST /payments/orders/<id>/feedback/ (the buyer rates) and …/feedback/reply/ (the seller
answers). A form post goes back to the order page with a message; JSON gets JSON."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.errors import error_payload
from core.middleware import asks_for_json
from core.rate_limits import post_rate_limit
from payments.views.common import json_object, refuse_anonymous
from ratings.forms import FeedbackForm, ReplyForm
from ratings.services import (
    FeedbackAlreadyAnswered,
    FeedbackAlreadyLeft,
    feedback_leave,
    feedback_reply,
)


def _input(request):
    return json_object(request) if request.content_type == "application/json" else request.POST


def _invalid(request, order_id, form):
    if asks_for_json(request):
        payload = error_payload("invalid", "Some fields are invalid.", fields=form.errors.get_json_data())
        return JsonResponse(payload, status=400)
    messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect(f"/orders/{order_id}/#feedback")


def _done(request, order_id, feedback, text):
    if asks_for_json(request):
        return JsonResponse({"order_id": feedback.order_id, "rating": feedback.rating,
                             "comment": feedback.comment, "reply": feedback.reply})
    messages.success(request, text)
    return redirect(f"/orders/{order_id}/#feedback")


@require_POST
@refuse_anonymous
@post_rate_limit("POST_RATE_PER_USER")
def feedback_leave_view(request, order_id: int):
    form = FeedbackForm(data=_input(request))
    if not form.is_valid():
        return _invalid(request, order_id, form)
    try:
        feedback = feedback_leave(order_id=order_id, buyer=request.user, rating=form.cleaned_data["rating"],
                                  comment=form.cleaned_data["comment"], request=request)
    except FeedbackAlreadyLeft as error:  # a double click: the first one counted
        if asks_for_json(request):
            raise
        messages.info(request, error.message)
        return redirect(f"/orders/{order_id}/#feedback")
    return _done(request, order_id, feedback, "Thanks for rating the seller.")


@require_POST
@refuse_anonymous
@post_rate_limit("POST_RATE_PER_USER")
def feedback_reply_view(request, order_id: int):
    form = ReplyForm(data=_input(request))
    if not form.is_valid():
        return _invalid(request, order_id, form)
    try:
        feedback = feedback_reply(order_id=order_id, seller=request.user, reply=form.cleaned_data["reply"],
                                  request=request)
    except FeedbackAlreadyAnswered as error:
        if asks_for_json(request):
            raise
        messages.info(request, error.message)
        return redirect(f"/orders/{order_id}/#feedback")
    return _done(request, order_id, feedback, "Your answer is published under the feedback.")
