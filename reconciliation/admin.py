"""Finance's reconciliation pages in admin: the runs, and their differences with the order each
concerns and the fix it allows. Only Finance (and superusers) see them; other staff get 403.

The fixes are admin actions on the differences' list, each a service in
reconciliation/services/fixes.py that refuses what is no longer safe and writes the audit row.
"""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from core.errors import DomainError
from payments.admin.base import ViewOnlyAdmin
from payments.staff import FINANCE
from reconciliation.models import Difference, Fix, ReconciliationRun
from reconciliation.services.fixes import difference_adopt_refund, difference_apply_missed_event


def is_finance(user) -> bool:
    return bool(
        user.is_active and user.is_staff and (user.is_superuser or user.groups.filter(name=FINANCE).exists())
    )


class FinanceOnlyAdmin(ViewOnlyAdmin):
    def has_module_permission(self, request):
        return is_finance(request.user)

    def has_view_permission(self, request, obj=None):
        return is_finance(request.user)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(FinanceOnlyAdmin):
    list_display = (
        "__str__",
        "started_at",
        "since",
        "until",
        "account_shown",
        "objects_read",
        "differences_link",
        "open_count",
        "started_by",
    )
    list_filter = ("status",)
    readonly_fields = (
        "status",
        "since",
        "until",
        "account",
        "started_by",
        "started_at",
        "finished_at",
        "pages_read",
        "objects_read",
        "skipped_accounts",
        "error",
        "differences_link",
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_differences=Count("differences"),
                n_open=Count("differences", filter=Q(differences__resolved_at__isnull=True)),
            )
        )

    @admin.display(description="Account")
    def account_shown(self, run):
        return run.account or "all"

    @admin.display(description="Differences", ordering="n_differences")
    def differences_link(self, run):
        url = reverse("admin:reconciliation_difference_changelist") + f"?run__id__exact={run.pk}"
        return format_html('<a href="{}">{}</a>', url, getattr(run, "n_differences", run.differences.count()))

    @admin.display(description="Open", ordering="n_open")
    def open_count(self, run):
        return run.n_open


@admin.register(Difference)
class DifferenceAdmin(FinanceOnlyAdmin):
    list_display = (
        "kind",
        "order_shown",
        "stripe_account",
        "stripe_object_id",
        "message",
        "fix",
        "resolved_shown",
        "run",
    )
    list_filter = ("kind", "fix", ("resolved_at", admin.EmptyFieldListFilter), "run")
    list_select_related = ("run", "order", "resolved_by")
    search_fields = ("stripe_object_id", "stripe_account", "=order__id")
    readonly_fields = (
        "run",
        "kind",
        "order_shown",
        "stripe_account",
        "stripe_object_id",
        "stripe_created",
        "message",
        "ours",
        "stripe",
        "fix",
        "resolved_at",
        "resolved_by",
        "resolution",
    )
    actions = ("apply_missed_event", "adopt_refund")

    @admin.display(description="Order", ordering="order")
    def order_shown(self, difference):
        if difference.order_id is None:
            return "—"
        url = reverse("admin:payments_order_change", args=[difference.order_id])
        return format_html('<a href="{}">#{}</a>', url, difference.order_id)

    @admin.display(description="Resolved")
    def resolved_shown(self, difference):
        if difference.resolved_at is None:
            return "open"
        return f"{difference.resolution} ({difference.resolved_by or 'someone'})"

    def _fix_each(self, request, queryset, fix):
        for difference in queryset.order_by("pk"):
            try:
                fix(difference_id=difference.pk, actor=request.user, request=request)
            except DomainError as error:
                self.message_user(request, f"Difference {difference.pk}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Difference {difference.pk}: fixed.", messages.SUCCESS)

    @admin.action(description=Fix.APPLY_EVENT.label)
    def apply_missed_event(self, request, queryset):
        self._fix_each(request, queryset, difference_apply_missed_event)

    @admin.action(description=Fix.ADOPT_REFUND.label)
    def adopt_refund(self, request, queryset):
        self._fix_each(request, queryset, difference_adopt_refund)
