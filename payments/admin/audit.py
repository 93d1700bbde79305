"""Admin for the audit trail and Stripe's webhook deliveries (with replay of those not applied)."""


from django.contrib import admin, messages
from django.db.models import Q
from djstripe.models import WebhookEventTrigger

from core.errors import DomainError
from payments.admin.base import (
    STRIPE_CALL_PREFIX,
    DefaultChoiceFilter,
    ViewOnlyAdmin,
    badge,
)
from payments.models import (
    AuditEvent,
)
from payments.services.webhook_guards import NOT_APPLIED_PREFIX, NOT_APPLIED_REASONS
from payments.services.webhooks import webhook_replay

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

