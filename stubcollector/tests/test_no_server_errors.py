"""Bad input never gives a 500: every route, four kinds of visitor, junk ids, bodies and queries.

The routes come from the project's URL resolver, so a new route is swept without editing this
file. Each route gets a small world (an owner seller on a sandbox Stripe account, a buyer with a
paid order from that seller, a stranger seller) and is called with valid and junk path values,
junk query strings and junk POST bodies. Any status >= 500 or an exception out of the view is a
failure named by route and case. JSON errors must be in the house shape {"error": {...}}.
"""

import json

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from payments.tests.factories import PaidOrderFactory, sandbox_seller_onboarded

pytestmark = pytest.mark.django_db

# Bigger than a PostgreSQL bigint: an id like this must be a 404, not a DataError.
HUGE_ID = "99999999999999999999"
WEBHOOK_ROUTES = {"payments:webhook", "payments:webhook_connect"}
JSON_PREFIXES = ("/api/", "/marketplace/", "/payments/")


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        if isinstance(entry, URLResolver):
            if pattern.startswith("admin/"):
                continue  # admin internals: a few changelists are swept below instead
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + pattern, inner)
        elif isinstance(entry, URLPattern):
            if entry.callback.__module__ == "django.views.static":
                continue  # the media/ file server
            name = f"{namespace}{entry.name}" if entry.name else prefix + pattern
            yield pytest.param(name, prefix + pattern, entry.pattern.converters, id=name)


ROUTES = list(_walk(get_resolver()))

JUNK_QUERIES = [
    "page=-1",
    "page=abc",
    f"page={HUGE_ID}",
    "q=a%00b",
    "sort=",
    "sort=%00",
    "min_price=1e400&max_price=-5",
    "date_from=2020-13-45&date_to=%00",
    "listing_id=%00",
    "category=%00&status=%00&condition=%00",
    # "²".isdigit() is True but int("²") raises: digit checks must be ASCII-only.
    "page=%C2%B2&page_size=%C2%B2",
    "page=1&page_size=-1",
    "purchases_page=abc&sales_page=-1",
    "next=%00&checkout=%00&redirect_status=%00",
    "%00=%00&page=1&page=abc",
]

TEXT_FIELDS = [
    "username", "password", "password1", "password2", "email", "first_name", "last_name",
    "seller_bio", "event_name", "performer", "venue", "city", "event_date", "category",
    "condition", "description", "price", "price_cents", "amount", "reason", "carrier",
    "tracking_number", "next", "shipping_name", "shipping_line1", "shipping_city",
    "shipping_state", "shipping_postal_code", "shipping_country", "listing_id", "status",
]
LONG = "x" * 3000

# (label, body, content_type). Form bodies go through the test client's encoder.
JUNK_POSTS = [
    ("form empty", {}, None),
    ("form listing_id=abc", {"listing_id": "abc"}, None),
    ("form negative", {"listing_id": "-1", "amount": "-5", "price": "-1.5", "price_cents": "-5"},
     None),
    ("form huge", {"listing_id": HUGE_ID, "amount": "1e9", "price": "1e400",
                   "price_cents": HUGE_ID}, None),
    ("form float", {"listing_id": "1.5", "amount": "0.001", "price": "nan"}, None),
    ("form superscript digits", {"listing_id": "\u00b2", "amount": " \u00b2 ", "price": "\u00b2"}, None),
    ("form action NUL", {"action": "profile", **{name: "a\x00b" for name in TEXT_FIELDS}}, None),
    ("form action bio 3KB", {"action": "bio", "bio": LONG}, None),
    ("form action become_seller", {"action": "become_seller", "bio": "a\x00b"}, None),
    ("form tracking 10k", {"tracking_number": "x" * 10_000, "carrier": LONG}, None),
    ("form NUL everywhere", {name: "a\x00b" for name in TEXT_FIELDS}, None),
    ("form 3KB everywhere", {name: LONG for name in TEXT_FIELDS}, None),
    ("json listing_id list", '{"listing_id": [1]}', "application/json"),
    ("json null", "null", "application/json"),
    ("json list", "[]", "application/json"),
    ("json truncated", '{"listing_id": ', "application/json"),
    ("json listing_id=abc", '{"listing_id": "abc"}', "application/json"),
    ("json huge id", json.dumps({"listing_id": int(HUGE_ID), "amount": 1e9}), "application/json"),
    ("json negative float", '{"listing_id": -1.5, "amount": -5, "amount_cents": -5}',
     "application/json"),
    ("json superscript digits", '{"listing_id": "\u00b2", "amount": "\u00b2"}', "application/json"),
    ("json huge amount", json.dumps({"amount": int(HUGE_ID)}), "application/json"),
    ("json infinite", '{"listing_id": 1e400, "amount": 1e400}', "application/json"),
    ("json NUL", json.dumps({name: "a\x00b" for name in TEXT_FIELDS}), "application/json"),
    ("json 3KB", json.dumps({name: LONG for name in TEXT_FIELDS}), "application/json"),
    ("json tracking 10k", json.dumps({"tracking_number": "x" * 10_000}), "application/json"),
    ("json nested 100k deep", "[" * 100_000, "application/json"),
    ("bytes as json", b"\xff\xfe\x00\x81{", "application/json"),
    ("bytes as form", b"listing_id=\xff\xfe&amount=\x81", "application/x-www-form-urlencoded"),
]


def _junk_posts_with_valid_ids(world):
    """Valid ids, so the junk in the other fields gets past the id check to the validation."""
    ids = {"listing_id": str(world["listing"].pk), "action": "profile"}
    nul = {name: "a\x00b" for name in TEXT_FIELDS if name not in ids}
    long = {name: LONG for name in TEXT_FIELDS if name not in ids}
    return [
        ("form valid id + NUL", {**nul, **ids}, None),
        ("form valid id + 3KB", {**long, **ids}, None),
        ("json valid id + NUL", json.dumps({**nul, **ids}), "application/json"),
        ("json valid id + 3KB", json.dumps({**long, **ids}), "application/json"),
        ("json valid id + wrong types", json.dumps({**{name: [1] for name in nul}, **ids}),
         "application/json"),
    ]


def _path_values(converters, world):
    """(label, kwargs) pairs: a valid value for every parameter, then junk ones."""
    if not converters:
        return [("", {})]
    valid = {}
    for name in converters:
        valid[name] = {
            "pk": world["listing"].pk,
            "listing_id": world["listing"].pk,
            "order_id": world["order"].pk,
            "username": world["owner"].username,
        }.get(name, "1")
    values = [("valid", valid)]
    junk = ["0", "999999999", HUGE_ID]
    for value in junk:
        kwargs = {}
        for name, converter in converters.items():
            try:
                converter.to_python(value)
            except (ValueError, OverflowError):
                kwargs = None
                break
            kwargs[name] = value
        if kwargs is not None:
            values.append((value, kwargs))
    if any(type(c).__name__ == "StringConverter" for c in converters.values()):
        values.append(("long", {name: LONG for name in converters}))
        values.append(("NUL", {name: "a%00b" for name in converters}))
    return values


def _build_path(route, kwargs):
    path = "/" + route
    for name, value in kwargs.items():
        path = path.replace(f"<int:{name}>", str(value)).replace(f"<str:{name}>", str(value))
    return path


def _problem(response, path):
    if response.status_code >= 500:
        return f"status {response.status_code}"
    content_type = response.get("Content-Type", "")
    if response.status_code >= 400 and content_type.startswith("application/json"):
        try:
            body = json.loads(response.content)
        except ValueError:
            return f"status {response.status_code} with a JSON body that does not parse"
        if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
            return f"status {response.status_code} JSON not in the house shape: {body!r:.200}"
    return None


def _send(client, method, path, *, data=None, content_type=None, query="", headers=None):
    """One request in its own savepoint, so a database error cannot poison the next one."""
    target = f"{path}?{query}" if query else path
    extra = headers or {}
    with transaction.atomic():
        if method in ("get", "delete"):
            return getattr(client, method)(target, **extra)
        if content_type is None:
            return getattr(client, method)(target, data, **extra)
        return getattr(client, method)(target, data, content_type=content_type, **extra)


@pytest.fixture
def world(stripe_sandbox):
    owner = sandbox_seller_onboarded(stripe_sandbox)
    buyer = UserFactory()
    order = PaidOrderFactory(buyer=buyer, listing=ListingFactory(seller=owner))
    return {
        "owner": owner,
        "buyer": buyer,
        "stranger": sandbox_seller_onboarded(stripe_sandbox),
        "listing": ListingFactory(seller=owner),
        "order": order,
    }


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    # The sweep sends hundreds of requests; a 429 would hide the validation under test.
    settings.RATELIMIT_ENABLE = False


def _forget_metric_series():
    """/metrics renders every series this process has seen; by the time the sweep reaches it a
    test worker holds thousands (every view x method x status of the suite), and the ~200
    requests of the sweep cost ~17 s. A running server sees each route's series too,
    so the render is the same code; the sweep starts it from this test's own series."""
    from prometheus_client import REGISTRY

    for collector in list(REGISTRY._collector_to_names):
        if getattr(collector, "_labelnames", ()):
            collector.clear()


@pytest.mark.parametrize(("name", "route", "converters"), ROUTES)
def test_no_route_answers_a_server_error_to_junk_input(name, route, converters, world):
    if name == "metrics":
        _forget_metric_series()
    failures = []
    visitors = {"anonymous": None, "buyer": world["buyer"], "owner": world["owner"],
                "stranger": world["stranger"]}
    for who, user in visitors.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for path_label, kwargs in _path_values(converters, world):
            path = _build_path(route, kwargs)
            cases = [("GET", "get", {}), ("POST form", "post", {"data": {}})]
            if path_label in ("", "valid"):
                cases += [(f"GET ?{q}", "get", {"query": q}) for q in JUNK_QUERIES]
                cases += [
                    ("GET Accept json ?page=abc", "get",
                     {"query": "page=abc&q=%00", "headers": {"HTTP_ACCEPT": "application/json"}}),
                    ("PUT json junk", "put", {"data": '{"listing_id": [1]}',
                                              "content_type": "application/json"}),
                    ("PATCH json null", "patch", {"data": "null", "content_type": "application/json"}),
                    ("DELETE", "delete", {}),
                ]
                cases += [(f"POST {label}", "post", {"data": body, "content_type": ctype})
                          for label, body, ctype in JUNK_POSTS + _junk_posts_with_valid_ids(world)]
            for label, method, options in cases:
                case = f"{who} {label} {path}"[:160]
                try:
                    response = _send(client, method, path, **options)
                except Exception as exc:  # noqa: BLE001 — any exception out of a view is a 500
                    failures.append(f"{case}: {type(exc).__name__}: {str(exc)[:200]}")
                    continue
                problem = _problem(response, path)
                if problem:
                    failures.append(f"{case}: {problem}")
                elif name in WEBHOOK_ROUTES and method == "post" and response.status_code != 400:
                    failures.append(f"{case}: webhook answered {response.status_code}, not 400")
    assert not failures, f"{len(failures)} bad answers on {name}:\n" + "\n".join(failures)


ADMIN_CHANGELISTS = [
    "admin:accounts_user_changelist",
    "admin:marketplace_listing_changelist",
    "admin:payments_order_changelist",
    "admin:payments_auditevent_changelist",
]
ADMIN_JUNK_QUERIES = [
    "o=zz&q=%00&p=abc",
    "o=999.-1&q=" + "x" * 3000 + "&p=-1",
    f"p={HUGE_ID}&id__gt=abc",
    "status__exact=%00&created_at__gte=2020-13-45",
]


@pytest.mark.parametrize("changelist", ADMIN_CHANGELISTS)
def test_admin_changelists_survive_junk_query_params(admin_client, world, changelist):
    failures = []
    for query in ADMIN_JUNK_QUERIES:
        try:
            response = _send(admin_client, "get", reverse(changelist), query=query)
        except Exception as exc:  # noqa: BLE001
            failures.append(f"?{query[:60]}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if response.status_code >= 500:
            failures.append(f"?{query[:60]}: status {response.status_code}")
    assert not failures, "\n".join(failures)


WEBHOOK_PATHS = ["/payments/webhook/", "/payments/webhook/connect/"]
WEBHOOK_JUNK_BODIES = [
    "",
    "null",
    "[]",
    '{"listing_id": [1]}',
    '{"id": "evt_junk", "type": 5}',
    '{"id": [1], "object": "event", "type": "account.updated", "data": {"object": "x"}}',
    '{"id": "evt_junk2", "object": "event", "type": "payment_intent.succeeded", "data": null}',
    '{"id": "evt_junk3", "object": "event", "type": "charge.refunded", "data": {"object": []}}',
    '{"id": "a\\u0000b", "object": "event", "type": "a\\u0000b", "data": {"object": {}}}',
    # PostgreSQL refuses NUL in text and jsonb; "account" gets them past the connect check.
    '{"id": "a\\u0000b", "object": "event", "type": "x", "account": "acct_1", "data": {"object": {}}}',
    '{"id": "evt_junk4", "object": "event", "type": "charge.refunded", "account": "acct_\\u0000",'
    ' "data": {"object": {"id": "ch_1", "description": "a\\u0000b"}}}',
    '{"id": [1], "object": "event", "type": "account.updated", "account": "acct_1", "data": {"object": 1}}',
    "x" * 3000,
    "[" * 100_000,
]
JUNK_SIGNATURES = ["", "t=abc,v1=zz", f"t={HUGE_ID},v1=00", "v1=" + "0" * 64, "t=1,v1=" + "a" * 5000]


@pytest.mark.parametrize("path", WEBHOOK_PATHS)
def test_webhooks_answer_400_to_junk_bodies_and_signatures(client, stripe_sandbox, settings, path):
    from payments.tests.webhook_support import sign

    settings.RATELIMIT_ENABLE = False
    secret = settings.STRIPE_CONNECT_WEBHOOK_SECRET if "connect" in path else settings.STRIPE_WEBHOOK_SECRET
    failures = []
    attempts = [(f"sig {sig[:20]!r}", body, sig) for body in WEBHOOK_JUNK_BODIES for sig in JUNK_SIGNATURES]
    attempts += [("wrong secret", body, sign(body, "whsec_wrong")) for body in WEBHOOK_JUNK_BODIES]
    attempts += [("non-UTF-8", b"\xff\xfe{\x81", sig) for sig in JUNK_SIGNATURES]
    # Correctly signed junk: nothing to trust in it, still not a 500.
    signed = [("signed", body, sign(body, secret)) for body in WEBHOOK_JUNK_BODIES]
    for label, body, signature in attempts + signed:
        headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
        case = f"{label} body {str(body)[:60]!r}"
        try:
            with transaction.atomic():
                response = client.post(path, data=body, content_type="application/json", **headers)
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{case}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        problem = _problem(response, path)
        if problem:
            failures.append(f"{case}: {problem}")
        elif label != "signed" and response.status_code != 400:
            failures.append(f"{case}: answered {response.status_code}, not 400")
        elif label == "signed" and response.status_code not in (200, 400):
            failures.append(f"{case}: answered {response.status_code}")
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures)
