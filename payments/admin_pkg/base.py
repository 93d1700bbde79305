"""What payments' admin modules and the apps above share: the base class of rows that services
and Stripe's webhooks write, money and order-link columns, and a filter with a starting choice
(payments.admin imports the others, so this sits below them)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from marketplace.pricing import format_usd


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


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows that the services or Stripe's webhooks write: staff look (and act through the
    admin's own buttons and actions), never add, edit or delete them as rows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
