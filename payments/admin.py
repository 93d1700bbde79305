"""Admin for orders, payments and the audit trail: where staff handle refunds and disputes.

Money and Stripe fields are read-only here: an order's status only moves through
`order_transition` (webhooks, checkout, ship/complete), and refunds go through the same
service as the refund route (`payments.services.refunds.order_refund`), from the "Refund"
button on an order's page or the "Refund in full" action on the list.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from marketplace.pricing import format_usd
from payments.models import AuditEvent, Order, OrderStatus, Payment
from payments.services.refunds import REFUNDABLE_STATUSES, refund_request
from stubcollector.errors import DomainError


def dollars(cents: int | None) -> str:
    return "—" if cents is None else format_usd(cents)


STATUS_BADGES = {
    OrderStatus.PAID: "ok", OrderStatus.SHIPPED: "ok", OrderStatus.COMPLETED: "ok",
    OrderStatus.PENDING_PAYMENT: "warn", OrderStatus.PARTIALLY_REFUNDED: "warn", OrderStatus.REFUNDED: "warn",
    OrderStatus.DISPUTED: "bad", OrderStatus.DISPUTE_LOST: "bad", OrderStatus.PAYMENT_FAILED: "bad",
}


class PaymentInline(admin.StackedInline):
    model = Payment
    can_delete = False
    extra = 0
    max_num = 0
    fields = (
        "payment_intent_id", "charge_id", "stripe_account_id", "status", "stripe_status",
        "amount_display", "fee_display", "refunded_display", "fee_refunded_display",
        "net_platform_display", "seller_net_display", "three_d_secure_authenticated",
        "dispute_id", "dispute_status", "liability_display",
    )
    readonly_fields = fields

    @admin.display(description="Amount")
    def amount_display(self, obj):
        return dollars(obj.amount_cents)

    @admin.display(description="Platform fee")
    def fee_display(self, obj):
        return dollars(obj.application_fee_cents)

    @admin.display(description="Refunded")
    def refunded_display(self, obj):
        return dollars(obj.amount_refunded_cents)

    @admin.display(description="Fee refunded")
    def fee_refunded_display(self, obj):
        return dollars(obj.fee_refunded_cents)

    @admin.display(description="Platform keeps")
    def net_platform_display(self, obj):
        return dollars(obj.net_platform_amount_cents) if obj.pk else "—"

    @admin.display(description="Seller keeps (before Stripe's fee)")
    def seller_net_display(self, obj):
        return dollars(obj.seller_net_cents) if obj.pk else "—"

    @admin.display(description="Liability")
    def liability_display(self, obj):
        if not obj.pk:
            return "—"
        liability = obj.liability_status
        return format_html(
            "Fees, refunds and disputes: {}<br>Fraud chargebacks: {}",
            liability["fees_refunds_disputes"], liability["fraud_liability"],
        )


class AuditEventInline(admin.TabularInline):
    model = AuditEvent
    fk_name = "order"
    can_delete = False
    extra = 0
    max_num = 0
    ordering = ("-created_at", "-id")
    # One "change" column instead of two status columns keeps the table inside a laptop screen.
    fields = ("created_at", "action", "status_change", "actor", "message", "stripe_event_id")
    readonly_fields = fields

    @admin.display(description="change")
    def status_change(self, event: AuditEvent) -> str:
        if not (event.from_status or event.to_status):
            return ""
        return f"{event.from_status or '—'} → {event.to_status}"


class RefundForm(forms.Form):
    amount = forms.IntegerField(
        required=False, min_value=1,
        help_text="In cents. Leave empty to refund everything that is left.",
    )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "id", "status_badge", "listing", "buyer", "seller", "amount_display", "fee_display",
        "dispute_display", "created_at", "paid_at",
    )
    list_filter = ("status", "created_at", "paid_at")
    search_fields = (
        "=id", "payment_intent_id", "stripe_account_id", "buyer__username", "buyer__email",
        "seller__username", "seller__email", "listing__stub__event_name", "payment__charge_id",
        "payment__dispute_id",
    )
    list_select_related = ("buyer", "seller", "listing__stub", "payment")
    date_hierarchy = "created_at"
    inlines = (PaymentInline, AuditEventInline)
    actions = ("refund_in_full",)
    readonly_fields = (
        "buyer", "seller", "listing", "status", "status_before_dispute", "amount_display", "fee_display",
        "seller_receives_display", "currency", "stripe_account_id", "payment_intent_id", "dispute_display",
        "reserved_until", "created_at", "updated_at", "paid_at", "shipped_at", "completed_at",
        "failed_at", "cancelled_at", "refunded_at", "disputed_at",
    )
    fieldsets = (
        (None, {"fields": ("status", "status_before_dispute", "buyer", "seller", "listing")}),
        ("Money", {"fields": ("amount_display", "fee_display", "seller_receives_display", "currency",
                              "stripe_account_id", "payment_intent_id", "dispute_display")}),
        ("Shipping", {"fields": ("shipping_name", "shipping_line1", "shipping_line2", "shipping_city",
                                 "shipping_state", "shipping_postal_code", "shipping_country",
                                 "tracking_number")}),
        ("Timeline", {"fields": ("reserved_until", "created_at", "updated_at", "paid_at", "shipped_at",
                                 "completed_at", "failed_at", "cancelled_at", "refunded_at", "disputed_at")}),
    )

    def has_add_permission(self, request):
        return False  # orders come from checkout only

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail and the money records stay

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="badge badge-{}">{}</span>',
                           STATUS_BADGES.get(obj.status, "warn"), obj.get_status_display())

    @admin.display(description="Amount", ordering="amount_cents")
    def amount_display(self, obj):
        return dollars(obj.amount_cents)

    @admin.display(description="Platform fee")
    def fee_display(self, obj):
        return dollars(obj.application_fee_cents)

    @admin.display(description="Seller receives (before Stripe's fee)")
    def seller_receives_display(self, obj):
        return dollars(obj.seller_receives_cents)

    @admin.display(description="Dispute")
    def dispute_display(self, obj):
        payment = getattr(obj, "payment", None)
        if payment is None or not payment.dispute_id:
            return "—"
        return f"{payment.dispute_id} ({payment.dispute_status})"

    # -- refunds --------------------------------------------------------------------------

    def get_urls(self):
        refund = self.admin_site.admin_view(self.refund_view)
        return [path("<int:order_id>/refund/", refund, name="payments_order_refund"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "refund_url": reverse("admin:payments_order_refund",
                                                                        args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def refund_view(self, request, order_id: int):
        order = get_object_or_404(Order.objects.select_related("payment", "listing__stub"), pk=order_id)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        payment = getattr(order, "payment", None)
        form = RefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = refund_request(order_id=order.pk, actor=request.user,
                                        amount_cents=form.cleaned_data["amount"], request=request)
            except DomainError as error:
                form.add_error("amount" if error.code == "invalid_amount" else None, error.message)
            else:
                self.message_user(
                    request, f"Refund {result.stripe_refund_id} of {dollars(result.amount_cents)} sent to Stripe; "
                    "the order updates when Stripe confirms it.", messages.SUCCESS,
                )
                return redirect("admin:payments_order_change", order.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Refund order #{order.pk}",
            "order": order,
            "payment": payment,
            "refundable": dollars(payment.refundable_cents) if payment else "—",
            "can_refund": payment is not None and order.status in REFUNDABLE_STATUSES,
            "form": form,
        }
        return TemplateResponse(request, "admin/payments/order/refund.html", context)

    @admin.action(description="Refund in full (on the seller's Stripe account)", permissions=["change"])
    def refund_in_full(self, request, queryset):
        done, failed = 0, []
        for order in queryset:
            try:
                refund_request(order_id=order.pk, actor=request.user, request=request)
            except DomainError as error:
                failed.append(f"#{order.pk}: {error.message}")
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} refund(s) sent to Stripe.", messages.SUCCESS)
        for message in failed:
            self.message_user(request, message, messages.ERROR)


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = (
        "payment_intent_id", "order", "status", "amount_display", "refunded_display",
        "net_platform_display", "three_d_secure_authenticated", "dispute_status", "created_at",
    )
    list_filter = ("status", "three_d_secure_authenticated", "dispute_status", "created_at")
    search_fields = ("payment_intent_id", "charge_id", "stripe_account_id", "dispute_id", "=order__id")
    list_select_related = ("order",)
    readonly_fields = (
        "order", "stripe_account_id", "payment_intent_id", "charge_id", "status", "stripe_status",
        "amount_display", "fee_display", "refunded_display", "fee_refunded_display", "net_platform_display",
        "seller_net_display", "currency", "three_d_secure_authenticated", "liability_display",
        "dispute_id", "dispute_status", "created_at", "updated_at",
    )
    fields = readonly_fields

    amount_display = PaymentInline.amount_display
    fee_display = PaymentInline.fee_display
    refunded_display = PaymentInline.refunded_display
    fee_refunded_display = PaymentInline.fee_refunded_display
    net_platform_display = PaymentInline.net_platform_display
    seller_net_display = PaymentInline.seller_net_display
    liability_display = PaymentInline.liability_display

    def has_add_permission(self, request):
        return False  # payments come from Stripe's webhooks only

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "order", "actor", "from_status", "to_status", "stripe_event_id")
    list_filter = ("action", "created_at")
    search_fields = ("action", "message", "stripe_event_id", "=order__id", "actor__username", "request_id")
    list_select_related = ("order", "actor")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False  # the trail is written by the services, never by hand

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# "Refresh Stripe status" on the User admin (seller onboarding's module; see its docstring).
from payments import admin_connect  # noqa: E402, F401
from payments import admin_disputes  # noqa: E402, F401  (Disputes list and respond page)
from payments import admin_feedback  # noqa: E402, F401  (Feedback: hide abuse, audited)
