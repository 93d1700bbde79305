"""Admin for messages (docs/operations.md, "Messages"): every conversation, read-only, with a
page where Support posts into one as "Stub Collector staff"; and the queue of message reports
(abuse reported by a party, contact details flagged before a sale) that Support marks handled.
Both actions go through messaging.services, which checks the permission and audits."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join

from core.errors import DomainError
from core.rate_limits import post_rate_limit
from messaging.models import MESSAGE_MAX_CHARS, Conversation, MessageReport, ReportStatus
from messaging.selectors import conversation_messages
from messaging.services import STAFF_NAME, message_post_as_staff, message_report_handle
from messaging.text import message_html
from payments.admin.base import ViewOnlyAdmin


class StaffPostForm(forms.Form):
    body = forms.CharField(
        label=f"Message as {STAFF_NAME}",
        max_length=MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
    )


@admin.register(Conversation)
class ConversationAdmin(ViewOnlyAdmin):
    list_display = ("__str__", "kind", "stub", "buyer", "seller", "last_message_at")
    list_filter = ("kind",)
    search_fields = ("buyer__username", "seller__username", "order__id", "listing__stub__event_name")
    list_select_related = ("listing__stub", "buyer", "seller")
    raw_id_fields = ("listing", "order", "buyer", "seller")
    readonly_fields = (
        "kind",
        "listing",
        "order",
        "buyer",
        "seller",
        "created_at",
        "last_message_at",
        "post_link",
        "thread",
    )
    fields = readonly_fields
    ordering = ("-last_message_at",)

    @admin.display(description="Stub")
    def stub(self, obj):
        return obj.listing.stub.event_name

    @admin.display(description="Messages")
    def thread(self, obj):
        # A read-only list rather than an inline: admin's inline script sets styles the Content
        # Security Policy refuses, and these rows are never edited here.
        rows = format_html_join(
            "",
            '<li id="message-{}"><strong>{}</strong> <span class="help">{}</span><div>{}</div></li>',
            (
                (
                    message.pk,
                    f"{STAFF_NAME} ({message.sender.username})"
                    if message.as_staff
                    else message.sender.username,
                    date_format(timezone.localtime(message.created_at), "Y-m-d H:i"),
                    message_html(message.body),
                )
                for message in conversation_messages(conversation=obj)
            ),
        )
        return format_html('<ol class="conversation-thread">{}</ol>', rows) if rows else "—"

    @admin.display(description="Join")
    def post_link(self, obj):
        url = reverse("admin:messaging_conversation_post", args=[obj.pk])
        return format_html('<a class="button" href="{}">Post as {}</a>', url, STAFF_NAME)

    def get_urls(self):
        own = [
            path(
                "<int:conversation_id>/post/",
                self.admin_site.admin_view(self.post_view),
                name="messaging_conversation_post",
            )
        ]
        return own + super().get_urls()

    @method_decorator(post_rate_limit("POST_RATE_PER_USER"))
    def post_view(self, request, conversation_id: int):
        if not request.user.has_perm("messaging.post_as_staff"):
            raise PermissionDenied
        conversation = get_object_or_404(
            Conversation.objects.select_related("listing__stub", "buyer", "seller"), pk=conversation_id
        )
        form = StaffPostForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                message_post_as_staff(
                    conversation_id=conversation.pk,
                    staff=request.user,
                    body=form.cleaned_data["body"],
                    request=request,
                )
            except DomainError as error:
                form.add_error("body", error.message)
            else:
                self.message_user(
                    request, f"Posted as {STAFF_NAME}; both parties are told.", messages.SUCCESS
                )
                return redirect("admin:messaging_conversation_change", conversation.pk)
        return TemplateResponse(
            request,
            "admin/messaging/staff_post.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Post into: {conversation}",
                "conversation": conversation,
                "thread": conversation_messages(conversation=conversation),
                "form": form,
                "staff_name": STAFF_NAME,
                "opts": self.model._meta,
            },
            status=400 if request.method == "POST" else 200,
        )


class ReportStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return ReportStatus.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(MessageReport)
class MessageReportAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "kind",
        "status",
        "reported_text",
        "sender",
        "reporter",
        "created_at",
        "conversation",
    )
    list_filter = (ReportStatusFilter, "kind")
    list_select_related = ("message__sender", "reporter", "message__conversation")
    readonly_fields = (
        "kind",
        "status",
        "reason",
        "reported_text",
        "sender",
        "reporter",
        "conversation",
        "handled_by",
        "handled_at",
        "created_at",
    )
    fields = readonly_fields
    actions = ["mark_handled"]
    ordering = ("status", "-created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Message")
    def reported_text(self, obj):
        return message_html(obj.message.body)

    @admin.display(description="Written by")
    def sender(self, obj):
        return obj.message.sender.username

    @admin.display(description="Conversation")
    def conversation(self, obj):
        url = reverse("admin:messaging_conversation_change", args=[obj.message.conversation_id])
        return format_html('<a href="{}#message-{}">{}</a>', url, obj.message_id, obj.message.conversation)

    @admin.action(description="Mark handled", permissions=["change"])
    def mark_handled(self, request, queryset):
        handled = sum(
            message_report_handle(report_id=pk, staff=request.user, request=request)
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"{handled} report(s) marked handled.", messages.SUCCESS)
