"""Ids no row can have (past 64 bits) in every route and JSON body that takes one: a 4xx, never
a 500 (SQLite cannot bind such a number where Django does not bound it: core/ids.py)."""

import json
import re

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.tests.factories import ListingFactory
from payments.tests.factories import shipping_address
from testing.sample import within

pytestmark = pytest.mark.django_db

TOO_BIG = str(2**64)
CAPTURE = re.compile(r"<[^>]+>|\(\?P<[^>]+>[^)]*\)")


def routes_with_parameters(patterns=None, prefix=""):
    """Every path in the URL conf with a parameter, each parameter written as TOO_BIG."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from routes_with_parameters(pattern.url_patterns, text)
        elif CAPTURE.search(text):
            yield "/" + CAPTURE.sub(TOO_BIG, text).replace("\\", "")


@pytest.fixture
def clients():
    result = {"anon": Client()}
    for role, user in (("buyer", UserFactory()), ("seller", SellerFactory()),
                       ("super", UserFactory(is_staff=True, is_superuser=True))):
        result[role] = Client()
        result[role].force_login(user)
    return result


def test_every_route_answers_an_id_past_64_bits_without_a_500(clients, request):
    ListingFactory()
    failures = []
    routes = sorted(set(routes_with_parameters()))
    assert len(routes) > 100  # the resolver walk found the routes (admin pages included)
    for path in within(request, "security/test_out_of_range_ids.py::routes", routes):
        for role, client in clients.items():
            for method in (client.get, client.post):
                status = method(path).status_code
                if status >= 500:
                    failures.append(f"{role} {method.__name__.upper()} {path}: {status}")
    assert not failures, "\n".join(failures)


def test_a_checkout_for_a_listing_id_past_64_bits_is_a_400(clients):
    body = {"listing_id": int(TOO_BIG), **shipping_address()}

    response = clients["buyer"].post("/payments/create-payment-intent/", json.dumps(body),
                                     content_type="application/json")

    assert response.status_code == 400
    assert "listing_id" in response.json()["error"]["fields"]


def test_the_compatibility_query_refuses_a_listing_id_past_64_bits(clients):
    response = clients["buyer"].get("/marketplace/payment-compatibility/", {"listing_id": TOO_BIG})

    assert response.status_code == 400
