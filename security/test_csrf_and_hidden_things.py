"""Two things the status matrix does not show.

CSRF: every route that changes something refuses a logged-in browser's POST without a CSRF
token, JSON or form (a session cookie is sent by any page the user visits), except the routes
whose request carries its own authority: Stripe's signed webhooks and the signed unsubscribe
link. Checked as the role the matrix lets in, so the 403 is the CSRF check and not a refusal.

Hidden things: a withdrawn listing, and a forged unsubscribe token, are nobody's business but
their owner's.
"""

import pytest
from django.test import Client
from django.urls import get_resolver

from security.test_authorization_matrix import (
    ALL_PATTERNS,
    ROUTE_ROWS,
    _body,
    _concrete_path,
    _prepare,
    _walk,
    row_for,
    send,
)
from security.world import ROLES, build_world

pytestmark = pytest.mark.django_db

SIGNED_NOT_CSRF = {"payments/webhook/", "payments/webhook/connect/", "unsubscribe/<str:token>/"}


def _writes():
    """(pattern, role) for each POST route: the first role the matrix lets through."""
    for pattern in ALL_PATTERNS:
        row = row_for(pattern)
        if row is None or "*" in row:
            continue
        method, expected = ROUTE_ROWS[row]
        if method not in ("POST", "JSON"):
            continue
        allowed = [r for r in ROLES if r != "anon" and expected[r] & {200, 201, 302}]
        if allowed:
            yield pytest.param(pattern, method, allowed[0], id=f"{pattern} {allowed[0]}")


@pytest.mark.parametrize(("pattern", "method", "role"), list(_writes()))
def test_a_post_without_a_csrf_token_is_refused(pattern, method, role, stripe_sandbox, settings):
    settings.RATELIMIT_ENABLE = False
    world = build_world(stripe_sandbox, paid=pattern.endswith("/refund/"))
    _prepare(pattern, world, settings)
    client = Client(enforce_csrf_checks=True)
    if world[role] is not None:
        client.force_login(world[role])

    response = send(client, method, _concrete_path(pattern, world), _body(pattern, world))

    if pattern in SIGNED_NOT_CSRF:
        assert response.status_code != 403 or b"CSRF" not in response.content
    else:
        assert response.status_code == 403, (pattern, role, response.status_code, response.content[:200])


def test_the_csrf_exempt_routes_are_exactly_the_signed_ones():
    """A new csrf_exempt view must be added here on purpose (and carry its own authority)."""
    exempt = {pattern for pattern, entry in _walk(get_resolver())
              if getattr(entry.callback, "csrf_exempt", False) and not pattern.startswith("admin/")}
    assert exempt == SIGNED_NOT_CSRF | {"marketplace/my-orders/", "marketplace/payment-compatibility/",
                                        "api/listings/", "api/listings/<str:pk>/"}


HIDDEN_PAGES = {  # a withdrawn listing: (path, method) -> statuses by role
    "listings/{pk}/": {"seller": 200},
    "api/listings/{pk}/": {},
    "checkout/{pk}/": {"seller": 409},
}


# Fixed: /checkout/<id>/ used to show a withdrawn or draft stub's title, venue, date and seller
# (a 409 page) to any logged-in user, though its page and the API answered 404.
def _hidden_cases():
    for template in HIDDEN_PAGES:
        for role in ROLES:
            yield pytest.param(template, role, id=f"{template} {role}")


@pytest.mark.parametrize(("template", "role"), list(_hidden_cases()))
def test_a_withdrawn_listing_is_seen_only_by_its_seller(template, role, stripe_sandbox):
    world = build_world(stripe_sandbox, paid=False)
    world.listing.status = "withdrawn"
    world.listing.save(update_fields=["status"])
    method = "GETJSON" if template.startswith("api/") else "GET"

    response = send(world.client_for(role), method, "/" + template.format(pk=world.listing.pk), {})

    login_first = role == "anon" and template.startswith("checkout")
    expected = HIDDEN_PAGES[template].get(role, 302 if login_first else 404)
    assert response.status_code == expected, (role, template, response.status_code)


@pytest.mark.parametrize("token", ["forged", "eyJrIjoid2F0Y2giLCJpZCI6MX0:1abc:xyz", "%00", "x" * 500])
def test_a_forged_unsubscribe_link_is_refused(token, stripe_sandbox):
    for method in ("get", "post"):
        response = getattr(Client(), method)(f"/unsubscribe/{token}/")
        assert response.status_code in (400, 404), (method, token, response.status_code)
