"""Fuzz the JSON routes with hypothesis: bodies, queries and headers no client would send.

Whatever arrives, the answer is never a 5xx (nor an exception out of the view), and a JSON error
is in the house shape {"error": {"code", "message"}}. The webhook endpoints also get *signed*
junk (signed with the endpoint's secret, so it gets past the signature into the parsing).

Each test runs the profile's max_examples cases (150; HYPOTHESIS_PROFILE=thorough: 1000), see
security/conftest.py.
"""

import json
import uuid

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from messaging.services import message_post, order_conversation_open
from offers.services import offer_make
from payments.tests.webhook_support import CONNECT_PATH, PLATFORM_PATH, sign
from problems.models import ProblemReport
from security.world import build_world

pytestmark = pytest.mark.django_db


# -- strategies ---------------------------------------------------------------------------------

nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "a\x00b", "²", "٣", "１２", "1e400", "-1", "0", "NaN", "Infinity",
                     "99999999999999999999", "<script>", "' OR 1=1 --", "../../etc/passwd", "%00",
                     "\ud7ff", "🎫" * 30, "x" * 5000, "null", "true", "[]", "{}"]),
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 49, 50, 500, 5000, 99_999_999, 100_000_000, 2**31, 2**63]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, nasty_text)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)), max_leaves=12)

KNOWN_KEYS = ["listing_id", "amount", "reason", "note", "tracking_number", "shipping_carrier",
              "rating", "comment", "reply", "shipping", "shipping_name", "shipping_line1",
              "shipping_line2", "shipping_city", "shipping_state", "shipping_postal_code",
              "shipping_country", "request_token", "watch", "price_cents", "status", "order_id", "body",
              "confirm"]


@st.composite
def bodies(draw):
    """Raw bytes: mostly JSON objects with our field names and hostile values, sometimes not
    JSON at all, sometimes not an object, sometimes deep."""
    kind = draw(st.sampled_from(["object", "object", "object", "value", "bytes", "deep"]))
    if kind == "object":
        keys = draw(st.lists(st.one_of(st.sampled_from(KNOWN_KEYS), nasty_text), max_size=6))
        return json.dumps({k: draw(json_values) for k in keys}).encode()
    if kind == "value":
        return json.dumps(draw(json_values)).encode()
    if kind == "deep":
        depth = draw(st.integers(min_value=50, max_value=20_000))
        return ("[" * depth + "]" * draw(st.sampled_from([0, depth]))).encode()
    return draw(st.binary(max_size=200))


headers = st.fixed_dictionaries({}, optional={
    "HTTP_ACCEPT": st.sampled_from(["application/json", "text/html", "*/*", "", "application/json, text/html",
                                    "\x00"]),
    "HTTP_IDEMPOTENCY_KEY": nasty_text,
    "HTTP_X_FORWARDED_FOR": st.sampled_from(["1.2.3.4", "::1", "junk", "1.2.3.4, 5.6.7.8", ""]),
    "HTTP_ORIGIN": st.sampled_from(["https://evil.example", "null"]),
})
content_types = st.sampled_from(["application/json", "application/json; charset=latin-1", "text/plain",
                                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                 "application/json; charset=utf-16"])
queries = st.dictionaries(
    st.one_of(st.sampled_from(["listing_id", "page", "page_size", "q", "sort", "category", "min_price",
                               "max_price", "date_from", "date_to", "status", "format"]), nasty_text),
    nasty_text, max_size=5,
)

# -- the routes -----------------------------------------------------------------------------------

# (method, path template, who calls); {order}, {listing} are the world's.
JSON_POSTS = [
    ("/payments/create-payment-intent/", "buyer2"),
    ("/payments/orders/{order}/ship/", "seller"),
    ("/payments/orders/{order}/complete/", "buyer"),
    ("/payments/orders/{order}/refund/", "seller"),
    ("/payments/orders/{order}/refund/", "finance"),
    ("/payments/orders/{order}/feedback/", "buyer"),
    ("/payments/orders/{order}/feedback/reply/", "seller"),
    ("/payments/orders/{order}/dispute/", "seller"),
    ("/payments/connect/onboard/", "buyer2"),
    ("/listings/{listing}/watch/", "buyer2"),
    ("/payments/orders/{order}/refund/", "anon"),
    ("/listings/{listing}/ask/", "buyer2"),
    ("/messages/{conversation}/send/", "buyer"),
    ("/messages/report/{message}/", "seller"),
    ("/listings/{listing}/offer/", "buyer2"),
    ("/offers/{offer}/accept/", "seller"),
    ("/offers/{offer}/counter/", "seller"),
    ("/offers/{offer}/decline/", "seller"),
    ("/offers/{offer}/withdraw/", "buyer"),
    ("/orders/{order}/problem/", "buyer"),
    ("/problems/{report}/reply/", "seller"),
    ("/problems/{report}/refund/", "seller"),
    ("/problems/{report}/escalate/", "buyer"),
    ("/problems/{report}/close/", "buyer"),
]
JSON_GETS = [
    ("/api/listings/", "anon"),
    ("/api/listings/{listing}/", "anon"),
    ("/marketplace/payment-compatibility/", "buyer2"),
    ("/marketplace/my-orders/", "buyer"),
    ("/payments/orders/{order}/status/", "buyer"),
    ("/payments/connect/status/", "seller"),
    ("/payments/connect/balance/", "seller"),
    ("/problems/{report}/", "buyer"),
]


def problem(response) -> str | None:
    if response.status_code >= 500:
        return f"status {response.status_code}: {response.content[:300]!r}"
    if response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
        try:
            body = json.loads(response.content)
        except ValueError:
            return "a JSON error that does not parse"
        if not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
            return f"a JSON error not in the house shape: {body!r:.200}"
    return None


@pytest.fixture
def world(stripe_sandbox, settings):
    settings.RATELIMIT_ENABLE = False
    world = build_world(stripe_sandbox, paid=True)
    world.order  # noqa: B018 — a paid sandbox order to aim at
    world.listing  # noqa: B018
    conversation = order_conversation_open(order_id=world.order.pk, user=world["buyer"])
    world.conversation_id = conversation.pk
    world.message_id = message_post(conversation_id=conversation.pk, sender=world["buyer"],
                                    body="Shipped yet?").pk
    type(world.listing).objects.filter(pk=world.listing.pk).update(offers_enabled=True)
    world.offer_id = offer_make(listing_id=world.listing.pk, buyer=world["buyer"], amount_cents=3000).pk
    world.report_id = ProblemReport.objects.create(
        order=world.order, buyer=world["buyer"], seller=world["seller"], kind="not_received",
        description="It never came.", conversation=conversation, seller_due_at=timezone.now(),
    ).pk
    return world


def _client(world, role: str) -> Client:
    """One logged-in client per role for all of a test's examples (they share the world too):
    a fresh login per example cost more than the request it sent."""
    clients = world.__dict__.setdefault("fuzz_clients", {})
    if role not in clients:
        clients[role] = world.client_for(role)
    return clients[role]


def _path(template: str, world) -> str:
    return template.format(order=world.order.pk, listing=world.listing.pk, conversation=world.conversation_id,
                           message=world.message_id, offer=world.offer_id, report=world.report_id)


@given(route=st.sampled_from(JSON_POSTS), body=bodies(), content_type=content_types, extra=headers,
       query=queries)
# PostgreSQL refuses NUL in text: a refund's Idempotency-Key and note holding one were a 500 there.
@example(route=("/payments/orders/{order}/refund/", "seller"), body=b"{}", content_type="application/json",
         extra={"HTTP_IDEMPOTENCY_KEY": "\x00"}, query={})
@example(route=("/payments/orders/{order}/refund/", "seller"), body=b'{"buyer_note": "a\\u0000b"}',
         content_type="application/json", extra={}, query={})
def test_json_posts_never_answer_5xx(world, route, body, content_type, extra, query):
    template, role = route
    client = _client(world, role)
    path = _path(template, world)
    # generic(): the bytes go out as they are (post() would re-encode them to the charset named).
    response = client.generic("POST", f"{path}?{_qs(query)}", data=body, content_type=content_type, **extra)
    assert problem(response) is None, f"{role} POST {path}: {problem(response)}"


@given(route=st.sampled_from(JSON_GETS), query=queries, extra=headers)
def test_json_gets_never_answer_5xx(world, route, query, extra):
    template, role = route
    client = _client(world, role)
    path = _path(template, world)
    response = client.get(path, query, **extra)
    assert problem(response) is None, f"{role} GET {path}?{query}: {problem(response)}"


@given(pk=nasty_text.filter(lambda t: "/" not in t and "?" not in t and "#" not in t), query=queries)
def test_the_listing_api_takes_any_id(world, pk, query):
    from urllib.parse import quote

    response = Client().get(f"/api/listings/{quote(pk, safe='')}/", query, HTTP_ACCEPT="application/json")
    assert problem(response) is None, f"/api/listings/{pk!r}/: {problem(response)}"


@st.composite
def events(draw):
    """Event-shaped objects with hostile values where Stripe puts ids, types and objects."""
    event_type = draw(st.one_of(st.sampled_from([
        "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
        "charge.refunded", "charge.refund.updated", "refund.updated", "refund.failed",
        "charge.dispute.created", "charge.dispute.closed", "account.updated",
        "account.application.deauthorized", "application_fee.refunded", "payout.failed"]), nasty_text))
    obj = draw(st.one_of(
        st.fixed_dictionaries({"id": st.one_of(st.sampled_from(["pi_x", "ch_x", "re_x", "dp_x", "acct_x"]),
                                               nasty_text, numbers),
                               "object": st.one_of(st.sampled_from(["payment_intent", "charge", "refund",
                                                                    "dispute", "account"]), nasty_text)},
                              optional={k: json_values for k in ("amount", "amount_refunded", "status",
                                                                  "metadata", "payment_intent", "charge",
                                                                  "refunds", "account", "charges_enabled")}),
        json_values,
    ))
    event = {"id": draw(st.one_of(st.just(f"evt_fuzz{uuid.uuid4().hex[:16]}"), nasty_text, numbers)),
             "object": "event", "type": event_type, "api_version": "2024-06-20",
             "created": draw(st.one_of(st.integers(min_value=0, max_value=2**40), nasty_text)),
             "livemode": draw(st.booleans()), "data": {"object": obj}}
    if draw(st.booleans()):
        event["account"] = draw(st.one_of(st.just("acct_fuzz"), nasty_text, numbers))
    if draw(st.booleans()):
        del event[draw(st.sampled_from(["id", "type", "data", "object"]))]
    text = json.dumps(event)
    if draw(st.integers(min_value=0, max_value=5)) == 0:  # a valid event with a deep value inside
        depth = draw(st.integers(min_value=100, max_value=5000))
        text = text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    return text.encode()


@given(body=st.one_of(events(), bodies()), connect=st.booleans())
# A number too big for a float reads as infinity, which PostgreSQL's JSON refuses: the account
# of an event we do not apply went into its audit row as it came.
@example(body=b'{"id": "evt_1", "object": "event", "type": "charge.succeeded", "account": 1e400, '
              b'"livemode": false, "data": {"object": {"id": "ch_1", "object": "charge"}}}', connect=True)
# An event id longer than the audit trail's column: PostgreSQL refused the not-applied row's insert.
@example(body=b'{"id": "evt_' + b"x" * 80 + b'", "object": "event", "type": "payment_intent.succeeded", '
              b'"api_version": "2024-06-20", "created": 0, "livemode": true, "data": {"object": {}}}',
         connect=False)
def test_signed_junk_on_the_webhooks_never_answers_5xx(world, body, connect):
    path = CONNECT_PATH if connect else PLATFORM_PATH
    secret = (django_settings.STRIPE_CONNECT_WEBHOOK_SECRET if connect
              else django_settings.STRIPE_WEBHOOK_SECRET)
    response = Client().post(path, data=body, content_type="application/json",
                             HTTP_STRIPE_SIGNATURE=sign(body.decode("utf-8", "replace"), secret)
                             if _utf8(body) else "t=1,v1=00")
    assert response.status_code < 500, (
        f"{path}: {response.status_code} {response.content[:300]!r} for {body[:300]!r}"
    )


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _qs(query: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(query)
