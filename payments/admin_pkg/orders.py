"""Admin for orders, refunds, payments, webhook deliveries and the audit trail.

Money and Stripe fields are read-only: an order's status only moves through `order_transition`
(webhooks, checkout, ship/complete), and refunds go through the one refund service
(`payments.services.refunds`) from the "Refund" button on an order's page or the "Refund in
full" action on the list, each with a confirmation page that says what will happen before
anything is sent. Who may refund how much is decided by `refund_permission_check`, the same
check as the refund route; staff who may not refund see neither the button nor the action.
"""

import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from djstripe.models import WebhookEventTrigger

from core.errors import DomainError
from core.rate_limits import post_rate_limit, post_rate_limit_check
from marketplace.pricing import InvalidDollarAmount, dollars_to_cents
from payments.admin_base import DefaultChoiceFilter, dollars, money_column, order_link_column
from payments.admin_base import ViewOnlyAdmin as ViewOnlyAdmin  # where disputes' admin finds it
from payments.forms import SHIPPING_FIELDS
from payments.models import (
    AuditEvent,
    Order,
    OrderSnapshot,
    OrderStatus,
    Payment,
    Refund,
    RefundApproval,
    RefundApprovalStatus,
    RefundReason,
    RefundStatus,
)
from payments.selectors import with_refund_waiting
from payments.selectors_staff import (
    order_search,
    orders_lapsed,
    refunds_failed_unresolved,
    refunds_unfinished,
)
from payments.services.audit import audit_record
from payments.services.refunds import (
    BUYER_NOTE_MAX_LENGTH,
    order_refundable_status,
    refund_approval_approve,
    refund_approval_decline,
    refund_approval_message,
    refund_limit_cents,
    refund_preview,
    refund_reason_choices,
    refund_reason_label,
    refund_request,
    refund_send,
)
from payments.services.webhook_guards import NOT_APPLIED_PREFIX, NOT_APPLIED_REASONS
from payments.services.webhooks import webhook_replay

REFUND_BADGES = {
    RefundStatus.SUCCEEDED: "ok",
    RefundStatus.PENDING: "warn",
    RefundStatus.REQUIRES_ACTION: "warn",
    RefundStatus.FAILED: "bad",
    RefundStatus.CANCELED: "bad",
}
STRIPE_CALL_PREFIX = "stripe."


def badge(kind: str, text: str):
    return format_html('<span class="badge badge-{}">{}</span>', kind, text)


def refund_status_badge(refund: Refund):
    unsent = " (not sent yet)" if not refund.sent and refund.status == RefundStatus.PENDING else ""
    return badge(REFUND_BADGES.get(refund.status, "warn"), refund.get_status_display() + unsent)


PAYMENT_FIELDS = (
    "payment_intent_id",
    "charge_id",
    "stripe_account_id",
    "status",
    "stripe_status",
    "amount_display",
    "fee_display",
    "refunded_display",
    "fee_refunded_display",
    "net_platform_display",
    "seller_net_display",
    "three_d_secure_authenticated",
    "liability_display",
)


class PaymentColumns:
    """A payment's money and liability, shown alike inline on its order and on its own page."""

    amount_display = money_column("amount_cents", "Amount")
    fee_display = money_column("application_fee_cents", "Platform fee")
    refunded_display = money_column("amount_refunded_cents", "Refunded")
    fee_refunded_display = money_column("fee_refunded_cents", "Fee refunded")
    net_platform_display = money_column("net_platform_amount_cents", "Platform keeps", saved_only=True)
    seller_net_display = money_column(
        "seller_net_cents", "Seller keeps (before Stripe's fee)", saved_only=True
    )

    @admin.display(description="Liability")
    def liability_display(self, obj):
        if not obj.pk:
            return "—"
        liability = obj.liability_status
        return format_html(
            "Fees, refunds and disputes: {}<br>Fraud chargebacks: {}",
            liability["fees_refunds_disputes"],
            liability["fraud_liability"],
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
class OrderAdmin(admin.ModelAdmin):
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
    # What the search box looks in; payments.selectors_staff.order_search does the searching.
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


class RefundTodoFilter(admin.SimpleListFilter):
    """The admin index's to-do lines for refunds (payments.selectors_staff)."""

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

    @admin.action(description="Approve and refund (Finance)", permissions=["approve"])
    def approve(self, request, queryset):
        post_rate_limit_check(request, group="payments.refunds", setting="REFUND_RATE_PER_USER")
        for approval in queryset:
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

    @admin.action(description="Decline (nothing is refunded)", permissions=["approve"])
    def decline(self, request, queryset):
        for approval in queryset:
            try:
                refund_approval_decline(approval_id=approval.pk, actor=request.user, request=request)
            except DomainError as error:
                self.message_user(request, f"#{approval.order_id}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request, f"#{approval.order_id}: refund of {dollars(approval.amount_cents)} declined."
                )


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
AUDIT_NOISE = Q(action__startswith=STRIPE_CALL_PREFIX) | Q(action__startswith="webhook.") | Q(
    action="connect.account_synced"
)


class AuditKindFilter(DefaultChoiceFilter):
    """Business events (orders, refunds, disputes, payouts, sellers, staff actions) unless another
    kind is picked: the Stripe calls and webhook records would bury them."""

    title = "kind"
    parameter_name = "kind"
    default = "business"

    def lookups(self, request, model_admin):
        return (("business", "Business events"), ("stripe", "Stripe API calls"),
                ("webhook", "Webhook deliveries not applied"), ("all", "All"))

    def queryset(self, request, queryset):
        value = self.chosen()
        if value == "business":
            return queryset.exclude(AUDIT_NOISE)
        if value == "stripe":
            return queryset.filter(action__startswith=STRIPE_CALL_PREFIX)
        if value == "webhook":
            return queryset.filter(action__startswith="webhook.")
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin):
    # Read-only: the trail is written by the services, never by hand.
    list_display = ("created_at", "action", "order", "actor", "from_status", "to_status", "message")
    list_filter = (AuditKindFilter, "action", "created_at")
    search_fields = ("action", "message", "stripe_event_id", "=order__id", "actor__username", "request_id")
    list_select_related = ("order", "actor")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


class DeliveryOutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return (
            ("failed", "Not applied (failed or waiting)"),
            ("processed", "Applied"),
            ("not_applied", "Not applied by choice (any reason)"),
            *((f"not_applied:{reason}", f"Not applied: {reason}") for reason in NOT_APPLIED_REASONS),
            ("invalid", "Refused"),
        )

    def queryset(self, request, queryset):
        settled = queryset.filter(processed=True, exception__startswith=NOT_APPLIED_PREFIX)
        if self.value() == "failed":
            return queryset.filter(valid=True, processed=False)
        if self.value() == "processed":
            return queryset.filter(processed=True).exclude(exception__startswith=NOT_APPLIED_PREFIX)
        if self.value() == "not_applied":
            return settled
        if (self.value() or "").startswith("not_applied:"):
            reason = self.value().partition(":")[2]
            return settled.filter(exception__startswith=f"{NOT_APPLIED_PREFIX}: {reason}:")
        if self.value() == "invalid":
            return queryset.filter(valid=False)
        return queryset


admin.site.unregister(WebhookEventTrigger)


@admin.register(WebhookEventTrigger)
class WebhookDeliveryAdmin(ViewOnlyAdmin):
    """Every delivery Stripe made to our two endpoints, with what became of it. A delivery that
    failed can be processed again; an event already applied is never applied twice."""

    list_display = ("id", "created", "event_type", "account", "outcome", "reason", "exception_short")
    list_filter = (DeliveryOutcomeFilter, "webhook_endpoint", "created")
    search_fields = ("body", "exception")
    actions = ("process_again",)
    fields = (
        "created",
        "webhook_endpoint",
        "remote_ip",
        "valid",
        "processed",
        "event",
        "exception",
        "body",
        "traceback",
    )
    readonly_fields = fields

    def has_process_permission(self, request) -> bool:
        return (
            request.user.is_active
            and request.user.is_staff
            and request.user.has_perm("djstripe.view_webhookeventtrigger")
        )

    @admin.display(description="Type")
    def event_type(self, obj):
        body = obj.json_body if isinstance(obj.json_body, dict) else {}
        return body.get("type", "—")

    @admin.display(description="Account")
    def account(self, obj):
        body = obj.json_body if isinstance(obj.json_body, dict) else {}
        return body.get("account") or "platform"

    @admin.display(description="Outcome")
    def outcome(self, obj):
        if not obj.valid:
            return badge("bad", "refused")
        if obj.processed and (obj.exception or "").startswith(NOT_APPLIED_PREFIX):
            return badge("warn", "not applied")
        return badge("ok", "applied") if obj.processed else badge("bad", "not applied")

    @admin.display(description="Why not applied")
    def reason(self, obj):
        """The reason a settled delivery was not applied (payments/services/webhook_guards.py)."""
        if not obj.processed or not (obj.exception or "").startswith(NOT_APPLIED_PREFIX):
            return ""
        return obj.exception[len(NOT_APPLIED_PREFIX) + 2:].partition(":")[0]

    @admin.display(description="Error")
    def exception_short(self, obj):
        return (obj.exception or "")[:80]

    @admin.action(description="Process again (deliveries that failed)", permissions=["process"])
    def process_again(self, request, queryset):
        done = 0
        for trigger in queryset.filter(valid=True, processed=False):
            try:
                webhook_replay(trigger=trigger)
            except DomainError as error:
                self.message_user(request, f"Delivery #{trigger.pk}: {error.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{done} delivery(ies) processed.", messages.SUCCESS)


from payments import (  # noqa: E402
    admin_fraud,  # noqa: F401  (Early fraud warnings: a to-do with a full refund, Finance)
)
