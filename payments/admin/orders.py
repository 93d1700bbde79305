"""Admin for orders and their payments: the order page with its refund button and inlines,
the order list and its to-do filters, and the payments list."""

import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html_join

from core.errors import DomainError
from core.rate_limits import post_rate_limit, post_rate_limit_check
from marketplace.pricing import InvalidDollarAmount, dollars_to_cents
from payments.admin.base import (
    PAYMENT_FIELDS,
    STRIPE_CALL_PREFIX,
    ActionRowsChecked,
    PaymentColumns,
    ViewOnlyAdmin,
    badge,
    dollars,
    money_column,
    refund_status_badge,
)
from payments.forms import SHIPPING_FIELDS
from payments.models import (
    AuditEvent,
    Order,
    OrderSnapshot,
    OrderStatus,
    Payment,
    Refund,
    RefundApproval,
    RefundReason,
    RefundStatus,
)
from payments.selectors.orders import with_refund_waiting
from payments.selectors.staff import (
    order_search,
    orders_lapsed,
)
from payments.services.audit import audit_record
from payments.services.refunds import (
    BUYER_NOTE_MAX_LENGTH,
    order_refundable_status,
    refund_approval_message,
    refund_limit_cents,
    refund_preview,
    refund_reason_choices,
    refund_reason_label,
    refund_request,
)


class PaymentInline(PaymentColumns, admin.StackedInline):
    model = Payment
    can_delete = False
    extra = 0
    max_num = 0
    classes = ("collapse",)
    fields = readonly_fields = PAYMENT_FIELDS


class OrderSnapshotInline(admin.StackedInline):
    """What the buyer paid for, as frozen at payment: what staff send the bank, whatever the
    seller wrote on the stub since."""

    model = OrderSnapshot
    verbose_name = verbose_name_plural = "What was sold (snapshot at payment)"
    can_delete = False
    extra = 0
    max_num = 0
    fields = ("event_name", "performer", "venue", "city", "event_date", "category", "condition",
              "description", "price_display", "shipping_display", "photos_display", "taken_at", "backfilled")
    readonly_fields = fields

    price_display = money_column("price_cents", "Price")
    shipping_display = money_column("shipping_cents", "Shipping")

    @admin.display(description="Photos")
    def photos_display(self, obj):
        return format_html_join(
            " ", '<a href="{}"><img src="{}" alt="Photo {}" width="80"></a>',
            ((photo["image"], photo["thumbnail"], number) for number, photo in enumerate(obj.gallery, 1)),
        ) or "—"


class ReadOnlyTabularInline(admin.TabularInline):
    """Rows written by the services only: shown, never added, edited or deleted here."""

    can_delete = False
    extra = 0
    max_num = 0

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class RefundInline(ReadOnlyTabularInline):
    model = Refund
    fields = (
        "created_at",
        "amount_display",
        "reason_display",
        "status_display",
        "failure_reason",
        "requested_by",
        "note",
        "buyer_note",
        "stripe_refund_id",
    )

    amount_display = money_column("amount_cents", "Amount")

    @admin.display(description="Reason")
    def reason_display(self, obj):
        return obj.reason_words

    @admin.display(description="Status")
    def status_display(self, obj):
        return refund_status_badge(obj)


class OrderAuditInline(ReadOnlyTabularInline):
    model = AuditEvent
    fk_name = "order"
    ordering = ("-created_at", "-id")


class AuditEventInline(OrderAuditInline):
    """What happened to the order, as a story: business steps only (Stripe calls are below)."""

    verbose_name_plural = "History"
    # One "change" column instead of two status columns keeps the table inside a laptop screen.
    fields = ("created_at", "status_change", "message", "actor")

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(action__startswith=STRIPE_CALL_PREFIX)

    @admin.display(description="change")
    def status_change(self, event: AuditEvent) -> str:
        if not (event.from_status or event.to_status):
            return event.action.replace("_", " ").replace(".", ": ")
        labels = dict(OrderStatus.choices)
        return f"{labels.get(event.from_status, '—')} → {labels.get(event.to_status, event.to_status)}"


class StripeCallInline(OrderAuditInline):
    verbose_name_plural = "Stripe API calls"
    classes = ("collapse",)
    fields = ("created_at", "action", "message", "actor")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(action__startswith=STRIPE_CALL_PREFIX)


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return (("yes", "Needs staff"), ("refund_pending", "Refund pending"),
                ("lapsed", "Hold lapsed, not cancelled"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(attention_reason="")
        if self.value() == "lapsed":
            return queryset.filter(pk__in=orders_lapsed().values("pk"))
        if self.value() == "refund_pending":
            return queryset.filter(refunds__status=RefundStatus.PENDING).distinct()
        return queryset


class DollarsField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return dollars_to_cents(value)
        except InvalidDollarAmount as error:
            raise forms.ValidationError(str(error)) from None


class RefundForm(forms.Form):
    amount = DollarsField(
        label="Amount (dollars)",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "10.00", "size": 12}),
    )
    # Ours and Stripe's (payments.services.refunds.refund_reason_choices); Stripe is sent its own.
    reason = forms.ChoiceField(choices=(), initial=RefundReason.REQUESTED_BY_CUSTOMER)
    buyer_note = forms.CharField(
        label="Note to the buyer",
        required=False,
        max_length=BUYER_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Optional: goes in the buyer's refund email.",
    )
    note = forms.CharField(
        label="Internal note",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="For staff only: not sent to Stripe, the buyer or the seller.",
    )
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = refund_reason_choices(user=user)


ORDER_MONEY_FIELDS = (
    "amount_display",
    "fee_display",
    "seller_receives_display",
    "refunded_display",
    "currency",
    "stripe_account_id",
    "payment_intent_id",
)
ORDER_TIMELINE_FIELDS = (
    "status_before_dispute",
    "reserved_until",
    "payment_failures",
    "created_at",
    "updated_at",
    "paid_at",
    "shipped_at",
    "completed_at",
    "failed_at",
    "cancelled_at",
    "refunded_at",
    "disputed_at",
)


@admin.register(Order)
class OrderAdmin(ActionRowsChecked, admin.ModelAdmin):
    # Seven narrow columns fit a 1280 px screen; the rest is on the order's page.
    list_display = (
        "id",
        "status_badge",
        "stub_column",
        "buyer",
        "seller",
        "amount_display",
        "refunded_display",
        "created_column",
    )
    list_display_links = ("id", "stub_column")
    list_filter = ("status", NeedsAttentionFilter, "created_at", "paid_at")
    # What the search box looks in; payments.selectors.staff.order_search does the searching.
    search_fields = ("buyer__username", "buyer__email", "seller__username", "seller__email",
                     "listing__stub__event_name")
    search_help_text = ("An order number; a buyer's or seller's name, username or email; the stub's event; "
                        "or a whole Stripe id (pi_, ch_, re_, dp_, issfr_, acct_).")
    list_select_related = ("buyer", "seller", "listing__stub", "payment")
    list_per_page = 50
    date_hierarchy = "created_at"
    inlines = (OrderSnapshotInline, RefundInline, PaymentInline, AuditEventInline, StripeCallInline)
    actions = ("refund_in_full",)
    # Staff may edit the attention note and the shipping address; the rest is read-only.
    readonly_fields = ("buyer", "seller", "listing", "status", *ORDER_MONEY_FIELDS, *ORDER_TIMELINE_FIELDS)
    fieldsets = (
        (None, {"fields": ("status", "attention_reason", "buyer", "seller", "listing")}),
        ("Money", {"fields": ORDER_MONEY_FIELDS}),
        ("Shipping", {"fields": (*SHIPPING_FIELDS, "tracking_number")}),
        ("Timeline", {"classes": ("collapse",), "fields": ORDER_TIMELINE_FIELDS}),
    )

    def get_queryset(self, request):
        return with_refund_waiting(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        return order_search(queryset, search_term), False

    def has_add_permission(self, request):
        return False  # orders come from checkout only

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail and the money records stay

    def has_refund_permission(self, request) -> bool:
        return refund_limit_cents(user=request.user) != 0

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.changed_data:
            audit_record(
                action="order.staff_edit",
                actor=request.user,
                order=obj,
                request=request,
                message="Staff changed " + ", ".join(form.changed_data).replace("_", " "),
            )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        attention = " · needs staff" if obj.attention_reason else ""
        # Admin's badges always have a tone: a neutral status (cancelled, refunded) shows as warn.
        return badge(obj.badge_tone or "warn", obj.status_label + attention)

    @admin.display(description="Ordered", ordering="created_at")
    def created_column(self, obj):
        return obj.created_at.strftime("%Y-%m-%d")

    @admin.display(description="Stub", ordering="listing__stub__event_name")
    def stub_column(self, obj):
        name = obj.listing.stub.event_name
        return name if len(name) <= 40 else name[:39] + "…"

    amount_display = money_column("amount_cents", "Amount", ordering="amount_cents")
    fee_display = money_column("application_fee_cents", "Platform fee")
    seller_receives_display = money_column("seller_receives_cents", "Seller receives (before Stripe's fee)")

    @admin.display(description="Refunded")
    def refunded_display(self, obj):
        payment = getattr(obj, "payment", None)
        return dollars(payment.amount_refunded_cents) if payment and payment.amount_refunded_cents else "—"

    # -- refunds --------------------------------------------------------------------------

    def get_urls(self):
        refund = self.admin_site.admin_view(self.refund_view)
        return [path("<int:order_id>/refund/", refund, name="payments_order_refund"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = Order.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        can_refund = (
            order is not None and order_refundable_status(order=order) and self.has_refund_permission(request)
        )
        extra_context = {
            **(extra_context or {}),
            "refund_url": reverse("admin:payments_order_refund", args=[order.pk]) if can_refund else "",
        }
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    @method_decorator(post_rate_limit("REFUND_RATE_PER_USER", group="payments.refunds"))
    def refund_view(self, request, order_id: int):
        """The refund form (dollars, reason, note), then a confirmation page, then the refund."""
        if not self.has_refund_permission(request):
            raise PermissionDenied
        order = get_object_or_404(
            Order.objects.select_related("payment", "listing__stub", "buyer"), pk=order_id
        )
        payment = getattr(order, "payment", None)
        form = RefundForm(request.POST or None, initial={"token": uuid.uuid4().hex}, user=request.user)
        preview = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if "confirm" in request.POST:
                    refund = refund_request(
                        order_id=order.pk,
                        actor=request.user,
                        amount_cents=data["amount"],
                        reason=data["reason"],
                        note=data["note"],
                        buyer_note=data["buyer_note"],
                        request_token=data["token"],
                        request=request,
                    )
                    self._told(request, refund)
                    return redirect("admin:payments_order_change", order.pk)
                preview = refund_preview(
                    order_id=order.pk, user=request.user, amount_cents=data["amount"], reason=data["reason"]
                )
            except DomainError as error:
                form.add_error("amount" if error.code == "invalid_amount" else None, error.message)
                preview = None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Confirm the refund of order #{order.pk}" if preview else f"Refund order #{order.pk}",
            "order": order,
            "payment": payment,
            "refundable": dollars(payment.amount_cents - payment.amount_refunded_cents) if payment else "—",
            "can_refund": payment is not None and order_refundable_status(order=order),
            "limit": refund_limit_cents(user=request.user),
            "daily_limit": settings.SUPPORT_REFUND_DAILY_LIMIT_CENTS,
            "form": form,
            "preview": preview,
            "reason_label": refund_reason_label(form.cleaned_data["reason"]) if preview else "",
        }
        return TemplateResponse(request, "admin/payments/order/refund.html", context)

    def _told(self, request, refund: Refund | RefundApproval) -> None:
        amount = dollars(refund.amount_cents)
        if isinstance(refund, RefundApproval):
            self.message_user(request, refund_approval_message(refund), messages.WARNING)
        elif refund.status == RefundStatus.SUCCEEDED:
            self.message_user(request, f"Refund of {amount} issued to the buyer.", messages.SUCCESS)
        elif refund.status == RefundStatus.FAILED:
            self.message_user(
                request, f"The refund of {amount} failed: {refund.failure_reason}.", messages.ERROR
            )
        else:
            self.message_user(
                request,
                f"Refund of {amount} is pending: Stripe sends it once the seller's "
                "balance can cover it. Seller and staff are emailed when it settles.",
                messages.WARNING,
            )

    @admin.action(description="Refund in full…", permissions=["refund"])
    def refund_in_full(self, request, queryset):
        """A confirmation page first; only its "Refund" button sends anything."""
        token = request.POST.get("refund_token", "")
        if "confirm" in request.POST:
            post_rate_limit_check(request, group="payments.refunds", setting="REFUND_RATE_PER_USER")
        if "confirm" not in request.POST or not token:
            rows = []
            for order in queryset.select_related("listing__stub", "buyer"):
                try:
                    rows.append(
                        {"order": order, "preview": refund_preview(order_id=order.pk, user=request.user)}
                    )
                except DomainError as error:
                    rows.append({"order": order, "problem": error.message})
            return TemplateResponse(
                request,
                "admin/payments/order/refund_in_full.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": "Refund these orders in full?",
                    "rows": rows,
                    "refundable": [row for row in rows if "preview" in row],
                    "token": uuid.uuid4().hex,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        done, failed = 0, []
        for order in queryset:
            try:
                refund = refund_request(
                    order_id=order.pk,
                    actor=request.user,
                    request_token=token,
                    reason=RefundReason.REQUESTED_BY_CUSTOMER,
                    request=request,
                )
            except DomainError as error:
                failed.append(f"#{order.pk}: {error.message}")
            else:
                if isinstance(refund, RefundApproval):
                    message = f"#{order.pk}: {refund_approval_message(refund)}"
                    self.message_user(request, message, messages.WARNING)
                    continue
                done += 1
                if refund.status == RefundStatus.FAILED:
                    failed.append(f"#{order.pk}: the refund failed ({refund.failure_reason})")
        if done:
            self.message_user(request, f"{done} refund(s) sent to Stripe.", messages.SUCCESS)
        for message in failed:
            self.message_user(request, message, messages.ERROR)
        return None



@admin.register(Payment)
class PaymentAdmin(PaymentColumns, ViewOnlyAdmin):
    # Read-only: payments come from Stripe's webhooks only.
    list_display = (
        "payment_intent_id",
        "order",
        "status",
        "amount_display",
        "refunded_display",
        "net_platform_display",
        "three_d_secure_authenticated",
        "dispute_status",
        "created_at",
    )
    list_filter = ("status", "three_d_secure_authenticated", "dispute_status", "created_at")
    search_fields = ("payment_intent_id", "charge_id", "stripe_account_id", "dispute_id", "=order__id")
    list_select_related = ("order",)
    fields = readonly_fields = (
        "order",
        *PAYMENT_FIELDS,
        "currency",
        "dispute_id",
        "dispute_status",
        "created_at",
        "updated_at",
    )


# Records of our plumbing rather than of the business: each Stripe API call, each webhook
# delivery not applied, each re-read of a seller's account.
