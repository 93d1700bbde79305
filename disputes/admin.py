"""Admin for disputes: the list sorted by evidence deadline, and the page to answer one.

The list shows every dispute (open ones first, the nearest deadline first) with amount, reason,
order, seller, status and days left, filtered by Stripe's statuses including the inquiry ones
(`warning_*`) and `prevented`. A dispute's page shows what Stripe and the seller said and a form
of evidence prefilled from the order; staff with `disputes.respond_dispute` (the Support and
Finance groups) save it as a draft on Stripe, submit it, or accept the dispute. The server
refuses anyone else (disputes.services._require_responder), whatever the page shows.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html

from core.errors import DomainError
from core.rate_limits import post_rate_limit, post_rate_limit_check
from disputes.evidence_sources import evidence_sources
from disputes.files import (
    LIMITS_TEXT,
    dispute_evidence_file_attach,
    dispute_evidence_files_current,
    dispute_evidence_source_attach,
)
from disputes.models import Dispute, DisputeStatus, EvidenceFileKind
from disputes.services import (
    EVIDENCE_FIELDS,
    EVIDENCE_MAX_CHARS,
    dispute_accept,
    dispute_can_respond,
    dispute_evidence_initial,
    dispute_evidence_validate,
    dispute_respond,
)
from payments.admin.base import ViewOnlyAdmin
from payments.models import AuditEvent

OPEN_STATUSES = [s.value for s in (DisputeStatus.WARNING_NEEDS_RESPONSE, DisputeStatus.WARNING_UNDER_REVIEW,
                                   DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW)]
STATUS_BADGES = {
    DisputeStatus.NEEDS_RESPONSE: "bad", DisputeStatus.WARNING_NEEDS_RESPONSE: "bad",
    DisputeStatus.UNDER_REVIEW: "warn", DisputeStatus.WARNING_UNDER_REVIEW: "warn",
    # Prevented is not a win (nothing came back), so it is not green.
    DisputeStatus.WON: "ok", DisputeStatus.WARNING_CLOSED: "ok", DisputeStatus.PREVENTED: "warn",
    DisputeStatus.LOST: "bad",
}
LONG_FIELDS = ("product_description", "shipping_address", "uncategorized_text")


class DisputeStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("needs_response", "Waiting for our answer"), ("closed", "Closed")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() == "needs_response":
            waiting = [DisputeStatus.NEEDS_RESPONSE, DisputeStatus.WARNING_NEEDS_RESPONSE]
            return queryset.filter(status__in=waiting, submitted_at__isnull=True, accepted_at__isnull=True)
        if self.value() == "closed":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset


class EvidenceForm(forms.Form):
    """Stripe's text evidence fields, prefilled from the order; all optional."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in EVIDENCE_FIELDS.items():
            widget = forms.Textarea(attrs={"rows": 4, "cols": 80}) if name in LONG_FIELDS else \
                forms.TextInput(attrs={"size": 60})
            self.fields[name] = forms.CharField(label=label, required=False, max_length=EVIDENCE_MAX_CHARS,
                                                widget=widget)
        self.fields["shipping_date"].help_text = "YYYY-MM-DD, from the seller's “Mark shipped”."
        self.fields["uncategorized_text"].help_text = (
            "In test mode, “winning_evidence” or “losing_evidence” here decides the outcome.")


@admin.register(Dispute)
class DisputeAdmin(ViewOnlyAdmin):
    # Read-only: disputes come from Stripe's webhooks and are answered through the respond page.
    list_display = ("due_display", "days_left_column", "amount_column", "reason_column", "order_link",
                    "seller_column", "status_badge")
    list_filter = (DisputeStateFilter, "status", "is_inquiry")
    search_fields = ("stripe_dispute_id", "=order__id", "order__buyer__email", "order__seller__username")
    list_select_related = ("order__seller",)
    list_per_page = 50

    # Open disputes first, the nearest deadline first; then the closed ones.
    ordering = (
        Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1),
             output_field=IntegerField()).asc(),
        F("evidence_due_by").asc(nulls_last=True),
        "-id",
    )

    # -- columns --------------------------------------------------------------------------

    @admin.display(description="Evidence due", ordering="evidence_due_by")
    def due_display(self, obj):
        return obj.evidence_due_by.strftime("%Y-%m-%d %H:%M") if obj.evidence_due_by else "—"

    @admin.display(description="Days left")
    def days_left_column(self, obj):
        return obj.days_left_display or "—"

    @admin.display(description="Amount", ordering="amount_cents")
    def amount_column(self, obj):
        return obj.amount_display

    @admin.display(description="Reason", ordering="reason")
    def reason_column(self, obj):
        return obj.reason.replace("_", " ") or "—"

    @admin.display(description="Order", ordering="order")
    def order_link(self, obj):
        url = reverse("admin:payments_order_change", args=[obj.order_id])
        return format_html('<a href="{}">#{}</a>', url, obj.order_id)

    @admin.display(description="Seller", ordering="order__seller__username")
    def seller_column(self, obj):
        return obj.order.seller.username

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="badge badge-{}">{}</span>', STATUS_BADGES.get(obj.status, "warn"),
                           obj.get_status_display())

    # -- the respond page -------------------------------------------------------------------

    def get_urls(self):
        respond = self.admin_site.admin_view(self.respond_view)
        return [path("<int:dispute_id>/respond/", respond, name="disputes_dispute_respond"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            return super().change_view(request, object_id, form_url, extra_context)
        return self.respond_view(request, int(object_id))

    @method_decorator(post_rate_limit("DISPUTE_RATE_PER_USER", group="payments.disputes"))
    def respond_view(self, request, dispute_id: int):
        disputes = Dispute.objects.select_related("order__buyer", "order__seller", "order__listing__stub")
        dispute = get_object_or_404(disputes, pk=dispute_id)
        if not self.has_view_permission(request, dispute):
            raise PermissionDenied
        can_respond = dispute_can_respond(user=request.user)
        draft = dispute.evidence_draft or {}
        form = EvidenceForm(initial=dispute_evidence_initial(dispute=dispute))
        if request.method == "POST":
            form = EvidenceForm(request.POST)
            action = request.POST.get("action")
            confirmed = request.POST.get("confirmed") == "1"
            # Documents chosen in the form go to Stripe first, with Save draft or before the
            # Submit confirmation, so that page lists them and the submission names them.
            attach_error = (self._attach_files(request, dispute=dispute)
                            if action in ("draft", "submit") and not confirmed and can_respond else "")
            if attach_error:
                messages.error(request, attach_error)
            elif action not in ("draft", "submit", "accept"):
                messages.error(request, "Choose Save draft, Submit or Accept.")
            elif action in IRREVERSIBLE and not confirmed and can_respond and dispute.needs_response and (
                action == "accept" or form.is_valid()
            ):
                # Accept and Submit cannot be undone: a page of their own names the consequence
                # first (a script's confirm() is blocked by our Content Security Policy).
                try:
                    if action == "submit":
                        dispute_evidence_validate(evidence=form.cleaned_data)
                except DomainError as error:
                    messages.error(request, error.message)
                else:
                    return self._confirm_page(request, dispute=dispute, action=action, form=form)
            elif action == "accept" or form.is_valid():
                try:
                    if action == "accept":
                        dispute_accept(dispute_id=dispute.pk, actor=request.user, request=request)
                        done = (f"{dispute.kind_label} accepted on Stripe (closed as lost); the order "
                                "follows when Stripe confirms it.")
                    else:
                        dispute_respond(dispute_id=dispute.pk, evidence=form.cleaned_data,
                                        submit=action == "submit", actor=request.user, request=request)
                        done = ("Evidence submitted to the bank." if action == "submit"
                                else "Draft saved on Stripe (not sent to the bank yet).")
                except DomainError as error:
                    if error.status == 403:
                        raise PermissionDenied(error.message) from error
                    messages.error(request, error.message)
                else:
                    messages.success(request, done)
                    return redirect("admin:disputes_dispute_respond", dispute.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{dispute.kind_label} on order #{dispute.order_id}",
            "seller_may_still_answer": _seller_may_still_answer(dispute),
            "dispute": dispute,
            "order": dispute.order,
            "form": form,
            "can_respond": can_respond,
            "answerable": dispute.needs_response,
            "sent": [(label, draft[key]) for key, label in EVIDENCE_FIELDS.items() if draft.get(key)],
            "evidence_files": dispute.evidence_files.select_related("uploaded_by"),
            "file_inputs": [(f"file_{kind}", label) for kind, label in EvidenceFileKind.choices],
            "file_limits": LIMITS_TEXT,
            "evidence_offers": _evidence_offers(dispute) if can_respond else [],
            "trail": AuditEvent.objects.filter(order=dispute.order, action__startswith="dispute.")
            .select_related("actor").order_by("-created_at", "-id")[:30],
        }
        return TemplateResponse(request, "admin/disputes/dispute/respond.html", context)

    def _confirm_page(self, request, *, dispute, action: str, form):
        evidence = []
        if action == "submit":
            evidence = [(form[key].label, value) for key, value in form.cleaned_data.items() if value]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": ("Submit the evidence to the bank?" if action == "submit"
                      else f"Accept the {dispute.kind_label.lower()}?"),
            "dispute": dispute,
            "order": dispute.order,
            "action": action,
            "form": form,
            "evidence": evidence,
            "evidence_files": dispute_evidence_files_current(dispute=dispute) if action == "submit" else [],
            "seller_may_still_answer": _seller_may_still_answer(dispute),
        }
        return TemplateResponse(request, "admin/disputes/dispute/confirm.html", context)

    def _attach_files(self, request, *, dispute) -> str:
        """Upload the documents chosen in the form (one input per kind); the first refusal's
        words, or "" when all went to Stripe (or none was chosen)."""
        for kind in EvidenceFileKind.values:
            upload = request.FILES.get(f"file_{kind}")
            if upload is None:
                continue
            post_rate_limit_check(request, group="payments.dispute_evidence_files",
                                  setting="DISPUTE_EVIDENCE_UPLOAD_RATE_PER_USER")
            try:
                dispute_evidence_file_attach(dispute_id=dispute.pk, kind=kind, upload=upload,
                                             actor=request.user, request=request)
            except DomainError as error:
                if error.status == 403:
                    raise PermissionDenied(error.message) from error
                return f"{EvidenceFileKind(kind).label} “{upload.name}”: {error.message}"
        for source in evidence_sources():
            if request.POST.get(f"source_{source.key}") != "1":
                continue
            post_rate_limit_check(request, group="payments.dispute_evidence_files",
                                  setting="DISPUTE_EVIDENCE_UPLOAD_RATE_PER_USER")
            try:
                dispute_evidence_source_attach(dispute_id=dispute.pk, source_key=source.key,
                                               actor=request.user, request=request)
            except DomainError as error:
                if error.status == 403:
                    raise PermissionDenied(error.message) from error
                return f"{EvidenceFileKind(source.kind).label}: {error.message}"
        return ""


# The two answers to a dispute that cannot be taken back: Stripe takes evidence once, and an
# accepted dispute is closed as lost for good (https://docs.stripe.com/api/disputes/close).
IRREVERSIBLE = ("submit", "accept")


def _evidence_offers(dispute) -> list[dict]:
    """What other apps offer for this dispute's files (disputes.evidence_sources), with links."""
    offers = []
    for source in evidence_sources():
        offer = source.offer(dispute)
        if offer:
            offers.append({"key": source.key, "offer": offer, "link": source.link(dispute),
                           "kind_label": EvidenceFileKind(source.kind).label})
    return offers


def _seller_may_still_answer(dispute) -> bool:
    """The seller has not added their side and the deadline has not passed: staff should wait."""
    days = dispute.days_left()
    return dispute.needs_response and not dispute.seller_note_at and days is not None and days >= 0
