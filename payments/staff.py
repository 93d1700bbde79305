"""Staff groups (docs/architecture.md, "Staff"): **Support** views everything, refunds up to
SUPPORT_REFUND_LIMIT_CENTS of an order in total and SUPPORT_REFUND_DAILY_LIMIT_CENTS a day (above,
a request waits for Finance) and responds to disputes; **Finance** views everything, refunds
any amount, approves Support's requests and responds to disputes. A data migration makes them
on every database; tests (which skip migrations) call `staff_groups_ensure()` themselves.
Membership is given in admin."""

from functools import reduce
from operator import or_

from django.apps import apps as django_apps
from django.contrib.auth.management import create_permissions
from django.db.models import Q

SUPPORT = "Support"
FINANCE = "Finance"

# Models every staff group may view (admin's "view" permission).
VIEW_MODELS = [
    ("payments", "order"), ("payments", "payment"), ("payments", "refund"), ("payments", "auditevent"),
    ("payments", "refundapproval"), ("payments", "earlyfraudwarning"), ("payments", "ordersnapshot"),
    ("disputes", "dispute"),
    ("messaging", "conversation"), ("messaging", "messagereport"),
    ("offers", "offer"),
    ("problems", "problemreport"),
    ("accounts", "user"),
    ("marketplace", "listing"), ("marketplace", "stub"),
    ("djstripe", "webhookeventtrigger"), ("djstripe", "event"),
]
# (app_label, codename): refunds are payments' (on Order), answering disputes is the disputes
# app's (on Dispute), joining conversations and handling message reports the messaging app's,
# deciding problem reports the problems app's, named here as data: payments imports none of them.
GROUP_PERMISSIONS = {
    SUPPORT: [("payments", "refund_order"), ("disputes", "respond_dispute"),
              ("messaging", "post_as_staff"), ("messaging", "change_messagereport"),
              ("problems", "decide_problemreport")],
    FINANCE: [("payments", "refund_order"), ("payments", "refund_order_any_amount"),
              ("disputes", "respond_dispute"), ("problems", "decide_problemreport")],
}


def staff_groups_ensure(*, apps=django_apps) -> None:
    """Create (or top up) the two groups with their permissions. Idempotent."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    needed = {(app_label, f"view_{model}") for app_label, model in VIEW_MODELS} | {
        permission for permissions in GROUP_PERMISSIONS.values() for permission in permissions
    }
    present = set(Permission.objects.filter(
        content_type__app_label__in={app_label for app_label, _ in needed},
        codename__in={codename for _, codename in needed},
    ).values_list("content_type__app_label", "codename"))
    # Permissions are normally made after migrate; the groups need them now. Skipped when they
    # are all there already (one query instead of ~80: tests call this for every staff user).
    for app_config in apps.get_app_configs() if not needed <= present else ():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = models_module
    # One query for the view permissions, not one per model: tests call this for every staff user.
    views = list(Permission.objects.filter(_any_of(
        (app_label, f"view_{model}") for app_label, model in VIEW_MODELS)))
    for name, permissions in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        own = Permission.objects.filter(_any_of(permissions))
        group.permissions.add(*views, *own)


def _any_of(permissions) -> Q:
    """Permissions named by (app_label, codename)."""
    return reduce(or_, (Q(content_type__app_label=app_label, codename=codename)
                        for app_label, codename in permissions))
