"""The staff admin, arranged for the work: a to-do list (what the apps register with
admin_todo_register: payments registers payments.selectors.staff.staff_todo), our
own models grouped by job, and dj-stripe's mirror of Stripe's objects kept off the index for
everyone, superusers included, and read-only (Stripe is their source of truth; a change made here
would never reach Stripe). The mirror stays reachable by URL for debugging (/admin/djstripe/).

Installed as Django's default admin site (`StaffAdminConfig` in INSTALLED_APPS), so every
`@admin.register` in the apps lands here unchanged.
"""

from collections.abc import Callable

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.urls import path

# (section title, [(app_label, object_name), …]) in the order staff reach for them. Models not
# named here keep Django's own grouping, after these sections; dj-stripe's come last.
SECTIONS = [
    (
        "Orders and money",
        [
            ("payments", "Order"),
            ("payments", "Refund"),
            ("disputes", "Dispute"),
            ("payments", "Payment"),
        ],
    ),
    (
        "Sellers and listings",
        [
            ("accounts", "User"),
            ("marketplace", "Listing"),
            ("marketplace", "Stub"),
            ("ratings", "Feedback"),
            ("ratings", "SellerRating"),
        ],
    ),
    (
        "Webhook deliveries and audit trail",
        [
            ("djstripe", "WebhookEventTrigger"),
            ("payments", "AuditEvent"),
        ],
    ),
]
# Names that say what staff find there, instead of the model's own.
ENTRY_NAMES = {
    ("accounts", "User"): "Users and sellers",
    ("djstripe", "WebhookEventTrigger"): "Webhook deliveries",
    ("payments", "AuditEvent"): "Audit trail",
}
MIRROR_APP = "djstripe"
MIRROR_TITLE = "Stripe mirror (read-only, from dj-stripe)"
# dj-stripe models that are ours to act on (a delivery can be reprocessed), not only mirrored.
MIRROR_EXCEPTIONS = {"WebhookEventTrigger"}


# The to-do list's sources, in the order registered: each is called with the staff user and
# returns the sections that user may act on. core knows no app; each app registers its own
# from its AppConfig.ready().
_todo_sources: list[Callable[..., list]] = []


def admin_todo_register(source: Callable[..., list]) -> None:
    """Show `source(user=...)`'s sections on the admin index (registering the same source twice
    changes nothing)."""
    if source not in _todo_sources:
        _todo_sources.append(source)


class StaffAdminSite(admin.AdminSite):
    site_header = "Stub Collector staff"
    # The sidebar repeats the index on every page and squeezes the orders list on a laptop.
    enable_nav_sidebar = False
    site_title = "Stub Collector staff"
    index_title = "Orders, refunds, disputes and sellers"

    def index(self, request, extra_context=None):
        todo = [section for source in list(_todo_sources) for section in source(user=request.user)]
        context = {"todo": todo, "mirror_title": MIRROR_TITLE}
        return super().index(request, extra_context={**context, **(extra_context or {})})

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label:
            return [{**app, "name": MIRROR_TITLE} if app["app_label"] == MIRROR_APP else app for app in apps]
        models = {
            (app["app_label"], entry["object_name"]): (app, entry) for app in apps for entry in app["models"]
        }
        arranged, placed = [], set()
        for title, names in SECTIONS:
            entries = [{**models[name][1], "name": ENTRY_NAMES.get(name, models[name][1]["name"])}
                       for name in names if name in models]
            if entries:
                first_app = models[next(name for name in names if name in models)][0]
                arranged.append({**first_app, "name": title, "models": entries})
                placed.update(name for name in names if name in models)
        for app in apps:
            rest = [
                entry for entry in app["models"] if (app["app_label"], entry["object_name"]) not in placed
            ]
            # The mirror is for debugging, not for the work: its own page lists it
            # (get_app_list with app_label, above), the index does not.
            if rest and app["app_label"] != MIRROR_APP:
                arranged.append({**app, "models": rest})
        return arranged


class StaffAdminConfig(AdminConfig):
    default_site = "core.admin_site.StaffAdminSite"

    def ready(self):
        super().ready()  # autodiscover: every app's admin module is imported now
        mirror_read_only(admin.site)


def mirror_read_only(site) -> None:
    """dj-stripe's admin classes allow add, change and bulk delete of mirrored Stripe objects,
    and any staff user could POST to their "sync from Stripe" action URL (which reads every
    object of a kind from Stripe): staff may only look (with the view permission)."""
    for model, model_admin in site._registry.items():
        if model._meta.app_label != MIRROR_APP or model.__name__ in MIRROR_EXCEPTIONS:
            continue
        model_admin.has_add_permission = lambda request, *args: False
        model_admin.has_change_permission = lambda request, obj=None: False
        model_admin.has_delete_permission = lambda request, obj=None: False
        model_admin.actions = []
        model_admin.get_urls = _without_custom_actions(model_admin)


def _refuse(request, *args, **kwargs):
    raise PermissionDenied


def _without_custom_actions(model_admin):
    def get_urls():
        urls = type(model_admin).get_urls(model_admin)
        return [
            path(str(url.pattern), model_admin.admin_site.admin_view(_refuse), name=url.name)
            if url.name == "djstripe_custom_action" else url
            for url in urls
        ]

    return get_urls
