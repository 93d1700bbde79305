"""Admin for Radar's early fraud warnings: a to-do list for staff (the actionable ones first)
with a one-click full refund. The refund button opens a confirmation that says what it does
(the buyer gets everything left back, the seller loses the sale, and the chargeback and its fee
are avoided); confirming refunds through the one refund service
(payments.services.fraud_warnings.fraud_warning_refund). Only Finance (`refund_order_any_amount`)
gets the button and the route. Registered from payments/admin.py.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html

from core.errors import DomainError
from core.rate_limits import post_rate_limit
from marketplace.pricing import format_usd
from payments.admin_base import ViewOnlyAdmin, order_link_column
from payments.models import EarlyFraudWarning
from payments.services.fraud_warnings import fraud_warning_refund
from payments.services.refunds import refund_preview

REFUND_PERMISSION = "payments.refund_order_any_amount"  # Finance


@admin.register(EarlyFraudWarning)
class EarlyFraudWarningAdmin(ViewOnlyAdmin):
    list_display = ("created_column", "order_link", "amount_column", "fraud_type_column", "order_status",
                    "todo_column")
    list_filter = ("actionable", "fraud_type")
    search_fields = ("stripe_warning_id", "=order__id", "charge_id", "order__seller__username")
    list_select_related = ("order",)
    ordering = ("-actionable", "-stripe_created", "-id")

    @admin.display(description="Reported", ordering="stripe_created")
    def created_column(self, obj):
        return obj.stripe_created.strftime("%Y-%m-%d %H:%M") if obj.stripe_created else "—"

    order_link = order_link_column

    @admin.display(description="Amount")
    def amount_column(self, obj):
        return format_usd(obj.order.amount_cents)

    @admin.display(description="Fraud type", ordering="fraud_type")
    def fraud_type_column(self, obj):
        return obj.fraud_type_display

    @admin.display(description="Order status")
    def order_status(self, obj):
        return obj.order.get_status_display()

    def get_list_display(self, request):
        # The refund button only for those whose refund the route accepts (Finance).
        todo = "todo_column" if request.user.has_perm(REFUND_PERMISSION) else "todo_text_column"
        return (*self.list_display[:-1], todo)

    @admin.display(description="To do")
    def todo_column(self, obj):
        if not obj.actionable:
            return "Nothing: disputed or refunded in full"
        url = reverse("admin:payments_earlyfraudwarning_refund", args=[obj.pk])
        return format_html('<a class="button" href="{}">Refund in full…</a>', url)

    @admin.display(description="To do")
    def todo_text_column(self, obj):
        return "Refund in full (Finance)" if obj.actionable else "Nothing: disputed or refunded in full"

    def get_urls(self):
        refund = self.admin_site.admin_view(self.refund_view)
        return [path("<int:warning_id>/refund/", refund, name="payments_earlyfraudwarning_refund"),
                *super().get_urls()]

    @method_decorator(post_rate_limit("REFUND_RATE_PER_USER", group="payments.refunds"))
    def refund_view(self, request, warning_id: int):
        warning = get_object_or_404(EarlyFraudWarning.objects.select_related("order"), pk=warning_id)
        if not (self.has_view_permission(request, warning) and request.user.has_perm(REFUND_PERMISSION)):
            raise PermissionDenied
        back = reverse("admin:payments_earlyfraudwarning_changelist")
        if not warning.actionable:
            messages.info(request, "This warning needs nothing more: the payment was disputed or refunded.")
            return redirect(back)
        if request.method == "POST":
            try:
                refund = fraud_warning_refund(warning_id=warning.pk, actor=request.user, request=request)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"Refund of {format_usd(refund.amount_cents)} sent for order "
                                          f"#{warning.order_id} ({refund.get_status_display().lower()}).")
            return redirect(back)
        try:
            preview = refund_preview(order_id=warning.order_id, user=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(back)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Refund order #{warning.order_id} after an early fraud warning",
            "warning": warning,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/payments/earlyfraudwarning/refund.html", context)
