"""Admin for refunds and Support's refund requests that wait for Finance."""


from django.contrib import admin, messages
from django.template.response import TemplateResponse

from core.errors import DomainError
from core.rate_limits import post_rate_limit_check
from payments.admin.base import (
    DefaultChoiceFilter,
    ViewOnlyAdmin,
    dollars,
    money_column,
    order_link_column,
    refund_status_badge,
)
from payments.admin.orders import OrderAdmin
from payments.models import (
    Refund,
    RefundApproval,
    RefundApprovalStatus,
    RefundStatus,
)
from payments.selectors.staff import (
    refunds_failed_unresolved,
    refunds_unfinished,
)
from payments.services.refunds import (
    refund_approval_approve,
    refund_approval_decline,
    refund_preview,
    refund_send,
)


class RefundTodoFilter(admin.SimpleListFilter):
    """The admin index's to-do lines for refunds (payments.selectors.staff)."""

    title = "to do"
    parameter_name = "todo"

    def lookups(self, request, model_admin):
        return (("unfinished", "Pending at Stripe"), ("failed", "Failed, not tried again"))

    def queryset(self, request, queryset):
        if self.value() == "unfinished":
            return queryset.filter(pk__in=refunds_unfinished().values("pk"))
        if self.value() == "failed":
            return queryset.filter(pk__in=refunds_failed_unresolved().values("pk"))
        return queryset


@admin.register(Refund)
class RefundAdmin(ViewOnlyAdmin):
    # Read-only: refunds are made from an order (button, action or route).
    list_display = (
        "id",
        "order_link",
        "amount_display",
        "status_badge",
        "reason_display",
        "requested_by",
        "created_at",
        "settled_at",
    )
    list_filter = (RefundTodoFilter, "status", "reason", "created_at")
    search_fields = ("=order__id", "stripe_refund_id", "order__buyer__email", "requested_by__username")
    list_select_related = ("order", "requested_by")
    actions = ("send_again",)
    readonly_fields = (
        "order",
        "stripe_refund_id",
        "amount_display",
        "fee_refunded_cents",
        "reason",
        "marketplace_reason",
        "note",
        "buyer_note",
        "status",
        "failure_reason",
        "requested_by",
        "attempt",
        "last_error",
        "created_at",
        "updated_at",
        "settled_at",
    )
    fields = readonly_fields

    has_refund_permission = OrderAdmin.has_refund_permission
    order_link = order_link_column
    amount_display = money_column("amount_cents", "Amount", ordering="amount_cents")

    @admin.display(description="Reason", ordering="marketplace_reason")
    def reason_display(self, obj):
        return obj.reason_words

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return refund_status_badge(obj)

    @admin.action(description="Send again to Stripe (refunds Stripe did not answer)", permissions=["refund"])
    def send_again(self, request, queryset):
        post_rate_limit_check(request, group="payments.refunds", setting="REFUND_RATE_PER_USER")
        for refund in queryset.filter(stripe_refund_id="", status=RefundStatus.PENDING):
            try:
                refund_send(refund_id=refund.pk, actor=request.user, request=request)
            except DomainError as error:
                self.message_user(request, f"Refund #{refund.pk}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Refund #{refund.pk} sent.", messages.SUCCESS)


class OpenApprovalFilter(DefaultChoiceFilter):
    """Finance's to-do list: the requests still waiting, unless another status is picked."""

    title = "status"
    parameter_name = "status"
    default = RefundApprovalStatus.OPEN

    def lookups(self, request, model_admin):
        return [*RefundApprovalStatus.choices, ("all", "All")]

    def queryset(self, request, queryset):
        value = self.chosen()
        return queryset if value == "all" else queryset.filter(status=value)


@admin.register(RefundApproval)
class RefundApprovalAdmin(ViewOnlyAdmin):
    """Refunds Support asked for above its limits. Finance approves (the refund service then
    refunds as Finance) or declines; Support sees its requests and their outcome."""

    list_display = (
        "id",
        "order_link",
        "amount_display",
        "status",
        "why",
        "requested_by",
        "created_at",
        "decided_by",
    )
    list_filter = (OpenApprovalFilter, "created_at")
    search_fields = ("=order__id", "requested_by__username")
    list_select_related = ("order", "requested_by", "decided_by")
    actions = ("approve", "decline")
    readonly_fields = (
        "order",
        "amount_display",
        "reason",
        "marketplace_reason",
        "note",
        "buyer_note",
        "why",
        "status",
        "requested_by",
        "created_at",
        "decided_by",
        "decided_at",
        "refund",
    )
    fields = readonly_fields

    order_link = order_link_column
    amount_display = money_column("amount_cents", "Amount", ordering="amount_cents")

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("payments.refund_order_any_amount")

    @admin.action(description="Approve and refund (Finance)…", permissions=["approve"])
    def approve(self, request, queryset):
        """A confirmation page first; only its button refunds."""
        approvals = self._chosen(request, queryset)
        if "confirm" not in request.POST:
            return self._confirmation(request, approvals, action="approve")
        post_rate_limit_check(request, group="payments.refunds", setting="REFUND_RATE_PER_USER")
        for approval in approvals:
            try:
                refund = refund_approval_approve(approval_id=approval.pk, actor=request.user, request=request)
            except DomainError as error:
                self.message_user(request, f"#{approval.order_id}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"#{approval.order_id}: refund of {dollars(refund.amount_cents)} "
                    f"{refund.get_status_display().lower()}.",
                    messages.ERROR if refund.status == RefundStatus.FAILED else messages.SUCCESS,
                )
        return None

    @admin.action(description="Decline (nothing is refunded)…", permissions=["approve"])
    def decline(self, request, queryset):
        """A confirmation page first; only its button declines."""
        approvals = self._chosen(request, queryset)
        if "confirm" not in request.POST:
            return self._confirmation(request, approvals, action="decline")
        for approval in approvals:
            try:
                refund_approval_decline(approval_id=approval.pk, actor=request.user, request=request)
            except DomainError as error:
                self.message_user(request, f"#{approval.order_id}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"#{approval.order_id}: refund of {dollars(approval.amount_cents)} declined; "
                    "nothing was refunded.",
                )
        return None

    def _chosen(self, request, queryset):
        """The requests ticked. The confirmation's POST takes them whatever the list's filter: a
        request decided meanwhile has left the default list of open ones, and Finance is told so
        (the service refuses it) instead of silently getting nothing done."""
        ids = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        if "confirm" in request.POST and ids and request.POST.get("select_across") != "1":
            queryset = self.get_queryset(request).filter(pk__in=ids)
        return queryset.select_related("order__listing__stub", "order__buyer", "requested_by")

    def _confirmation(self, request, approvals, *, action: str) -> TemplateResponse:
        """Each ticked request, what the button will do to it, or why it can no longer be decided."""
        rows = []
        for approval in approvals:
            row = {"approval": approval}
            if approval.status != RefundApprovalStatus.OPEN:
                row["problem"] = f"already {approval.get_status_display().lower()}"
            elif action == "approve":
                try:
                    row["preview"] = refund_preview(
                        order_id=approval.order_id,
                        user=request.user,
                        amount_cents=approval.amount_cents,
                        reason=approval.marketplace_reason or approval.reason,
                    )
                except DomainError as error:
                    row["problem"] = error.message
            rows.append(row)
        decidable = [row for row in rows if "problem" not in row]
        verb = "Approve" if action == "approve" else "Decline"
        return TemplateResponse(
            request,
            "admin/payments/refundapproval/decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"{verb} {'this refund request' if len(rows) == 1 else 'these refund requests'}?",
                "action": action,
                "rows": rows,
                "decidable": decidable,
                "total_cents": sum(row["approval"].amount_cents for row in decidable),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
