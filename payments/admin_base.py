"""The admin base class of rows that services and Stripe's webhooks write, shared by payments'
admin modules and the apps above (payments.admin imports the others, so it sits below them)."""

from django.contrib import admin


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows that the services or Stripe's webhooks write: staff look (and act through the
    admin's own buttons and actions), never add, edit or delete them as rows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
