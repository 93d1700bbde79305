"""Every route that takes a POST is rate-limited per user: the URL conf is walked, each route
POSTed to once to see whether it takes a POST at all (405), and a route that does must carry
core.rate_limits.post_rate_limit or be one of the few with a limit of their own."""

import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from security.world import build_world

pytestmark = pytest.mark.django_db

CAPTURE = re.compile(r"<[^>]+>|\(\?P<[^>]+>[^)]*\)")

# Routes limited in their own way (by address, or only when something costs us), each with where.
OWN_LIMITS = {
    "accounts.views.signup": "SIGNUP_RATE_PER_IP (accounts/views.py)",
    "accounts.views.LoginView": "per IP and per username (accounts/views.py)",
    "accounts.views.LogoutView": "ends the caller's own session only",
    "payments.views.checkout.create_payment_intent": "PAYMENT_INTENT_RATE_PER_USER/IP",
    "connect.views.connect_onboard": "ONBOARD_RATE (connect/views.py)",
    "payments.views.webhooks.platform_webhook": "signed by Stripe; failures per IP",
    "payments.views.webhooks.connect_webhook": "signed by Stripe; failures per IP",
    "accounts.views.PasswordChangeView": "PASSWORD_CHANGE_RATE_PER_USER (accounts/views.py)",
    "accounts.views.PasswordResetView": "per IP and per email (accounts/views.py)",
    "accounts.views.PasswordResetConfirmView": "per IP (accounts/views.py)",
    # A POST here is the respond page's (respond_view, limited); an order row is view-only.
    "disputes.admin.DisputeAdmin.change_view": "DisputeAdmin.respond_view's limit",
    "payments.admin.orders.OrderAdmin.change_view": "view-only rows: a POST changes nothing",
    "core.admin_site._refuse": "refuses every request",
}
# Pages that answer a POST as they answer a GET and change nothing.
READ_ONLY = {"core.views.healthz", "core.views.readyz", "core.views.metrics",
             "marketplace.views.browse", "marketplace.views.listing_detail",
             "marketplace.views.seller_profile", "core.admin_site.StaffAdminSite.index"}
# Django's and dj-stripe's own admin pages (add, change, delete rows): staff only, and the
# models whose rows matter are view-only (payments.admin.base.ViewOnlyAdmin); our admin pages that
# move money or answer disputes are checked like any other route.
STOCK = ("django.", "djstripe.")


def post_routes(patterns=None, prefix=""):
    """(path with each parameter as 1, callback) for every route in the URL conf."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from post_routes(pattern.url_patterns, text)
        else:
            yield "/" + CAPTURE.sub("1", text).replace("\\", ""), pattern.callback


def name_of(callback) -> str:
    view_class = getattr(callback, "view_class", None)
    target = view_class or callback
    return f"{target.__module__}.{target.__qualname__}"


def test_every_state_changing_post_route_has_a_rate_limit(settings):
    settings.RATELIMIT_ENABLE = False
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    missing = []
    for path, callback in post_routes():
        name = name_of(callback)
        if name.startswith(STOCK) and not getattr(callback, "post_rate_limit", None):
            continue
        if getattr(callback, "post_rate_limit", None) or name in OWN_LIMITS or name in READ_ONLY:
            continue
        if client.post(path).status_code != 405:
            missing.append(f"{path} ({name})")
    assert not missing, "POST routes without a rate limit:\n" + "\n".join(missing)


def test_support_cannot_send_sixty_refunds_in_a_minute(settings, stripe_sandbox):
    settings.REFUND_RATE_PER_USER = "3/m"
    world = build_world(stripe_sandbox, paid=True)
    client = world.client_for("finance")
    path = f"/payments/orders/{world.order.pk}/refund/"

    answers = [client.post(path, {"amount": "0.50"}, HTTP_ACCEPT="application/json").status_code
               for _ in range(5)]

    assert answers[:3] != [429] * 3 and answers[3:] == [429, 429]


def test_the_admin_refund_page_shares_the_refund_limit(settings, stripe_sandbox):
    settings.REFUND_RATE_PER_USER = "1/m"
    world = build_world(stripe_sandbox, paid=True)
    client = world.client_for("finance")
    client.post(f"/payments/orders/{world.order.pk}/refund/", {"amount": "0.50"},
                HTTP_ACCEPT="application/json")

    response = client.post(f"/admin/payments/order/{world.order.pk}/refund/", {"amount": "0.50"})

    assert response.status_code == 429


def test_watching_is_limited_per_user(settings, client):
    settings.POST_RATE_PER_USER = "2/m"
    listing = ListingFactory()
    client.force_login(UserFactory())

    answers = [client.post(f"/listings/{listing.pk}/watch/").status_code for _ in range(3)]

    assert answers[2] == 429 and 429 not in answers[:2]
