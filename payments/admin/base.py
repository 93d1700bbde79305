"""What payments' admin modules and the apps above share: the base class of rows that services
and Stripe's webhooks write, money and order-link columns, and a filter with a starting choice
(the other admin modules of payments import it; it imports none of them)."""

from django.contrib import admin
from django.core.exceptions import BadRequest, ValidationError
from django.urls import reverse
from django.utils.html import format_html

from marketplace.pricing import format_usd
from payments.models import Refund, RefundStatus


def dollars(cents: int | None) -> str:
    return "—" if cents is None else format_usd(cents)


def money_column(attribute: str, description: str, *, ordering: str | None = None, saved_only: bool = False):
    """An admin column or read-only field showing the cents in `attribute` as dollars.
    `saved_only`: an amount computed from the saved row shows "—" on a row not saved yet."""

    @admin.display(description=description, ordering=ordering)
    def column(model_admin, obj):
        return "—" if saved_only and not obj.pk else dollars(getattr(obj, attribute))

    return column


@admin.display(description="Order", ordering="order")
def order_link_column(model_admin, obj):
    return format_html(
        '<a href="{}">#{}</a>', reverse("admin:payments_order_change", args=[obj.order_id]), obj.order_id
    )


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A filter that starts on `default` rather than on everything (which is a choice too)."""

    default: str

    def chosen(self) -> str:
        return self.value() or self.default

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.chosen() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


class ActionRowsChecked:
    """An admin action's ticked rows are ids of the model, or the POST is a 400: Django filters
    the list by them as sent, and a value that is not an id fails (a 500) when the action reads
    the rows."""

    def response_action(self, request, queryset):
        for value in request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME):
            try:
                self.model._meta.pk.to_python(value)
            except ValidationError:
                raise BadRequest(f"“{value[:40]}” is not a row of this list.") from None
        return super().response_action(request, queryset)


class ViewOnlyAdmin(ActionRowsChecked, admin.ModelAdmin):
    """Rows that the services or Stripe's webhooks write: staff look (and act through the
    admin's own buttons and actions), never add, edit or delete them as rows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# -- shared by the order, payment and refund pages ----------------------------------------


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


