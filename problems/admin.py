"""Admin for problem reports (docs/operations.md, "Problem reports"): every report, read-only,
with its messages (the order's conversation, which Support joins from its own page), photos, a
card dispute on the same order, and the page where Support decides a report that is with
Support: refund (through payments' refund service and its Support limits) or decline. The
decision goes through problems.services, which checks the permission and audits."""

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
from disputes.services import dispute_for_order
from marketplace.pricing import InvalidDollarAmount, dollars_to_cents, format_usd
from messaging.selectors import conversation_messages
from messaging.services import STAFF_NAME
from messaging.text import message_html
from payments.admin.base import ViewOnlyAdmin
from payments.models import RefundApproval
from payments.views.refunds import refund_form_token
from problems.models import DECISION_NOTE_MAX_CHARS, ProblemReport, ProblemStatus
from problems.services import problem_can_decide, problem_decide


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("refund", "Refund the buyer"), ("decline", "Decline: decide for the seller")],
        widget=forms.RadioSelect,
    )
    amount = forms.CharField(
        label="Amount to refund (dollars)",
        required=False,
        help_text="Empty: all that is left. Support's limits apply; above them the refund waits for Finance.",
    )
    note = forms.CharField(
        label="Note to the buyer and the seller",
        required=False,
        max_length=DECISION_NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        help_text="Required when you decline: say why.",
    )
    refund_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_amount(self):
        text = self.cleaned_data["amount"].strip()
        if not text:
            return None
        try:
            return dollars_to_cents(text)
        except InvalidDollarAmount as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(ProblemReport)
class ProblemReportAdmin(ViewOnlyAdmin):
    list_display = (
        "__str__",
        "kind",
        "status",
        "seller",
        "buyer",
        "created_at",
        "seller_due_at",
        "escalated_at",
    )
    list_filter = ("status", "kind", "outcome")
    search_fields = ("=order__id", "buyer__username", "seller__username", "buyer__email")
    list_select_related = ("buyer", "seller")
    readonly_fields = (
        "order_link",
        "kind",
        "status",
        "outcome",
        "buyer",
        "seller",
        "created_at",
        "seller_due_at",
        "answered_at",
        "buyer_due_at",
        "escalated_at",
        "escalation",
        "closed_at",
        "refunded",
        "decided_by",
        "decision_note",
        "dispute_link",
        "description",
        "photo_links",
        "conversation_link",
        "thread",
        "decide_link",
    )
    fields = readonly_fields
    ordering = ("-created_at",)

    @admin.display(description="Order")
    def order_link(self, obj):
        url = reverse("admin:payments_order_change", args=[obj.order_id])
        return format_html('<a href="{}">#{}</a>', url, obj.order_id)

    @admin.display(description="Refunded through the report")
    def refunded(self, obj):
        return format_usd(obj.refunded_cents)

    @admin.display(description="Card dispute")
    def dispute_link(self, obj):
        dispute = dispute_for_order(order=obj.order)
        if dispute is None:
            return "—"
        url = reverse("admin:disputes_dispute_change", args=[dispute.pk])
        return format_html(
            '<a href="{}">{} ({})</a> — its page can attach this report as evidence',
            url,
            dispute.kind_label,
            dispute.get_status_display(),
        )

    @admin.display(description="Photos")
    def photo_links(self, obj):
        links = format_html_join(
            " ",
            '<a href="{}">Photo {}</a>',
            (
                (reverse("problems:photo", args=[obj.pk, photo.pk]), photo.position + 1)
                for photo in obj.photos.all()
                if photo.state == "ready"
            ),
        )
        return links or "—"

    @admin.display(description="Conversation")
    def conversation_link(self, obj):
        if not obj.conversation_id:
            return "—"
        read = reverse("admin:messaging_conversation_change", args=[obj.conversation_id])
        post = reverse("admin:messaging_conversation_post", args=[obj.conversation_id])
        return format_html('<a href="{}">Read it</a> · <a href="{}">Post as {}</a>', read, post, STAFF_NAME)

    @admin.display(description="Messages")
    def thread(self, obj):
        if not obj.conversation_id:
            return "—"
        rows = format_html_join(
            "",
            '<li><strong>{}</strong> <span class="help">{}</span><div>{}</div></li>',
            (
                (
                    f"{STAFF_NAME} ({m.sender.username})" if m.as_staff else m.sender.username,
                    date_format(timezone.localtime(m.created_at), "Y-m-d H:i"),
                    message_html(m.body),
                )
                for m in conversation_messages(conversation=obj.conversation)
            ),
        )
        return format_html('<ol class="conversation-thread">{}</ol>', rows) if rows else "—"

    @admin.display(description="Decide")
    def decide_link(self, obj):
        if obj.status != ProblemStatus.WITH_SUPPORT:
            return "—"
        url = reverse("admin:problems_problemreport_decide", args=[obj.pk])
        return format_html('<a class="button" href="{}" id="decide-link">Decide</a>', url)

    def get_urls(self):
        own = [
            path(
                "<int:report_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="problems_problemreport_decide",
            )
        ]
        return own + super().get_urls()

    @method_decorator(post_rate_limit("REFUND_RATE_PER_USER", group="payments.refunds"))
    def decide_view(self, request, report_id: int):
        if not problem_can_decide(user=request.user):
            raise PermissionDenied
        report = get_object_or_404(
            ProblemReport.objects.select_related("order__listing__stub", "buyer", "seller"), pk=report_id
        )
        form = DecideForm(request.POST or None, initial={"refund_token": refund_form_token()})
        if request.method == "POST" and form.is_valid():
            try:
                result = problem_decide(
                    report_id=report.pk,
                    staff=request.user,
                    decision=form.cleaned_data["decision"],
                    amount_cents=form.cleaned_data["amount"],
                    note=form.cleaned_data["note"],
                    request_token=form.cleaned_data["refund_token"],
                    request=request,
                )
            except DomainError as error:
                if error.status == 403:
                    raise PermissionDenied(error.message) from error
                form.add_error(None, error.message)
            else:
                if isinstance(result, RefundApproval):
                    self.message_user(
                        request,
                        f"{format_usd(result.amount_cents)} is above Support's limits: "
                        "the refund waits for Finance; the report stays with Support.",
                        messages.WARNING,
                    )
                else:
                    self.message_user(
                        request, "Decided; the buyer and the seller are told.", messages.SUCCESS
                    )
                return redirect("admin:problems_problemreport_change", report.pk)
        return TemplateResponse(
            request,
            "admin/problems/problemreport/decide.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Decide: {report}",
                "report": report,
                "thread": conversation_messages(conversation=report.conversation)
                if report.conversation_id
                else [],
                "photos": [p for p in report.photos.all() if p.state == "ready"],
                "form": form,
                "staff_name": STAFF_NAME,
                "opts": self.model._meta,
                "with_support": report.status == ProblemStatus.WITH_SUPPORT,
            },
            status=400 if request.method == "POST" else 200,
        )
