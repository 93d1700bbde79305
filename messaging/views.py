"""The messages pages (docs/architecture.md, "Messages"): the inbox, a conversation, asking a
question on a listing, an order's conversation, posting and reporting. Thin: the rules are in
messaging.services; a JSON client gets JSON, a form the page again."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited

from core.errors import DomainError
from core.middleware import asks_for_json, login_first
from core.rate_limits import post_rate_limit
from marketplace.selectors import listing_visible_to
from messaging import selectors, services
from messaging.forms import MessageForm, ReportForm
from messaging.models import ConversationKind
from payments.views.common import json_object


def message_rate_limit(view):
    """MESSAGE_RATE_PER_USER per user and MESSAGE_RATE_PER_IP per address, counted together for
    asking and answering (one budget for every new message); then a 429."""

    @post_rate_limit("MESSAGE_RATE_PER_USER", group="messaging.message")
    @wraps(view)
    def limited(request, *args, **kwargs):
        if request.method == "POST" and is_ratelimited(
            request,
            group="messaging.message.ip",
            key="ip",
            rate=settings.MESSAGE_RATE_PER_IP,
            method="POST",
            increment=True,
        ):
            raise Ratelimited()
        return view(request, *args, **kwargs)

    return limited


def _input(request):
    return json_object(request) if request.content_type == "application/json" else request.POST


def _body(request):
    value = _input(request).get("body", "")
    return value if isinstance(value, str) else ""


@require_GET
@login_first
def inbox_view(request):
    rows = selectors.inbox(user=request.user)
    return render(request, "messaging/inbox.html", {"rows": rows, "staff_name": services.STAFF_NAME})


def _conversation_page(request, conversation, *, form=None, status=200):
    is_buyer = conversation.buyer_id == request.user.pk
    other = conversation.seller if is_buyer else conversation.buyer
    return render(
        request,
        "messaging/conversation.html",
        {
            "conversation": conversation,
            "thread": selectors.conversation_messages(conversation=conversation),
            "form": form or MessageForm(),
            "report_form": ReportForm(),
            "is_buyer": is_buyer,
            "other": other,
            "stub": conversation.listing.stub,
            "is_order": conversation.kind == ConversationKind.ORDER,
            "staff_name": services.STAFF_NAME,
            "max_chars": services.MESSAGE_MAX_CHARS,
        },
        status=status,
    )


@require_GET
@login_first
def conversation_view(request, conversation_id: int):
    conversation = selectors.conversation_for_party(conversation_id=conversation_id, user=request.user)
    services.conversation_read(conversation=conversation, user=request.user)
    return _conversation_page(request, conversation)


def _posted(request, message, conversation_id: int):
    if asks_for_json(request):
        return JsonResponse(
            {
                "id": message.pk,
                "conversation_id": conversation_id,
                "body": message.body,
                "duplicate": message.duplicate,
            },
            status=200 if message.duplicate else 201,
        )
    if message.duplicate:
        messages.info(request, "That message was sent already.")
    return redirect(reverse("messaging:conversation", args=[conversation_id]) + f"#message-{message.pk}")


def _form_refused(request, error) -> MessageForm:
    """An empty or too long message: JSON gets the error (raised), a form its text back with it."""
    if asks_for_json(request):
        raise error
    form = MessageForm(data={"body": _body(request)})
    form.is_valid()
    form.add_error(None, error.message)
    return form


@require_POST
@login_first
@message_rate_limit
def send_view(request, conversation_id: int):
    conversation = selectors.conversation_for_party(conversation_id=conversation_id, user=request.user)
    try:
        message = services.message_post(
            conversation_id=conversation.pk, sender=request.user, body=_body(request), request=request
        )
    except (services.MessageEmpty, services.MessageTooLong, services.MessageNotText) as error:
        return _conversation_page(
            request, conversation, form=_form_refused(request, error), status=error.status
        )
    return _posted(request, message, conversation.pk)


@require_http_methods(["GET", "POST"])
@login_first
@message_rate_limit
def ask_view(request, listing_id: int):
    listing = listing_visible_to(listing_id=listing_id, viewer=request.user)
    thread = selectors.listing_question_thread(listing_id=listing.pk, buyer=request.user)
    if request.method == "GET" and thread is not None:
        return redirect("messaging:conversation", thread.pk)
    if request.method == "POST":
        try:
            message = services.question_ask(
                listing_id=listing.pk, buyer=request.user, body=_body(request), request=request
            )
        except (services.MessageEmpty, services.MessageTooLong, services.MessageNotText) as error:
            return _ask_page(request, listing, _form_refused(request, error), status=error.status)
        return _posted(request, message, message.conversation_id)
    services.question_allowed_check(listing=listing, buyer=request.user)
    return _ask_page(request, listing, MessageForm())


def _ask_page(request, listing, form, *, status=200):
    return render(
        request,
        "messaging/ask.html",
        {"listing": listing, "stub": listing.stub, "form": form, "max_chars": services.MESSAGE_MAX_CHARS},
        status=status,
    )


@require_GET
@login_first
def order_conversation_view(request, order_id: int):
    conversation = services.order_conversation_open(order_id=order_id, user=request.user)
    return redirect("messaging:conversation", conversation.pk)


@require_POST
@login_first
@post_rate_limit("POST_RATE_PER_USER")
def report_view(request, message_id: int):
    data = _input(request)
    form = ReportForm(
        data={"reason": data.get("reason", "") if isinstance(data.get("reason", ""), str) else ""}
    )
    if not form.is_valid():
        raise DomainError("Say what is wrong in 500 characters or fewer.", code="reason_too_long")
    report = services.message_report(
        message_id=message_id, reporter=request.user, reason=form.cleaned_data["reason"], request=request
    )
    if asks_for_json(request):
        return JsonResponse({"id": report.pk, "status": report.status}, status=201)
    messages.success(request, "Thank you: our Support team will look at this message.")
    return redirect(
        reverse("messaging:conversation", args=[report.message.conversation_id])
        + f"#message-{report.message_id}"
    )
