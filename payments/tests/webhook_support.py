"""Helpers for the webhook, refund and dispute tests: signed deliveries, sandbox purchases.

`sign` / `post_event` build deliveries by hand (the same HMAC scheme Stripe uses), for the
security tests. `endpoints_register` registers both of our endpoints with the in-process sandbox,
delivering through Django's test client, so a flush sends every signed event into the real
views; the root conftest's `webhook_sandbox`, `webhooks`, `deliver_all` and `paid_order` fixtures
build on these for a test.
`sandbox_order` / `pay` make a real PaymentIntent for an order on a sandbox account.
"""

import json
import time
import uuid

import stripe
from django.conf import settings

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import ListingFactory
from payments import stripe_api
from payments.models import Order
from payments.services.webhook_setup import webhook_event_types
from payments.services.webhooks import CONNECT, PLATFORM
from payments.tests.factories import OrderFactory, sandbox_seller_onboarded

PLATFORM_PATH = "/payments/webhook/"
CONNECT_PATH = "/payments/webhook/connect/"
# Past the sandbox accounts' payout delay (seven days): a sale's money is available.
PAYOUT_DELAY_SECONDS = 8 * 86400


def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    return stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=int(time.time()) if timestamp is None else timestamp
    )


def make_event(event_type: str, obj: dict | None = None, *, account: str | None = None,
               event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "account": account,
        "data": {"object": obj or {"id": "obj_unknown", "object": "unknown"}},
    }


def post_event(client, event: dict | bytes, *, path: str = PLATFORM_PATH, secret: str | None = None,
               timestamp: int | None = None, signature: str | None = None, **extra):
    """POST one delivery; signed with the endpoint's secret unless told otherwise."""
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    if secret is None:
        connect = path == CONNECT_PATH
        secret = settings.STRIPE_CONNECT_WEBHOOK_SECRET if connect else settings.STRIPE_WEBHOOK_SECRET
    headers = {}
    if signature is None:
        signature = sign(body, secret, timestamp)
    if signature:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    return client.post(path, data=body, content_type="application/json", **headers, **extra)


def endpoints_register(sandbox, client):
    """Register both of our endpoints with the sandbox, delivering through Django's test
    client: a flush then sends every signed event into the real views. Returns the sandbox.

    Each endpoint enables the event types `manage.py stripe_setup_webhooks` enables in
    production (`webhook_event_types`), not every type: a test sees the deliveries production
    gets, no more (an event production never receives cannot be what makes a test pass)."""
    from stripe_sandbox.webhooks import django_client_transport

    transport = django_client_transport(client)
    sandbox.create_webhook_endpoint(
        f"http://testserver{PLATFORM_PATH}", secret=settings.STRIPE_WEBHOOK_SECRET, transport=transport,
        enabled_events=webhook_event_types(PLATFORM),
    )
    sandbox.create_webhook_endpoint(
        f"http://testserver{CONNECT_PATH}", secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET,
        connect=True, transport=transport, enabled_events=webhook_event_types(CONNECT),
    )
    return sandbox


def sandbox_order(sandbox, *, seller=None, buyer=None, price_cents: int = 5000) -> Order:
    """A pending order with a real PaymentIntent on the seller's sandbox account."""
    seller = seller or sandbox_seller_onboarded(sandbox)
    listing = ListingFactory(seller=seller, price_cents=price_cents)
    order = OrderFactory(listing=listing, buyer=buyer or UserFactory(), payment_intent_id="")
    intent = stripe_api.payment_intent_create(order=order)
    order.payment_intent_id = intent.id
    order.save(update_fields=["payment_intent_id"])
    return order


def pay(order: Order, payment_method: str = "pm_card_visa"):
    """Confirm the order's PaymentIntent with a test card, as Stripe.js would."""
    try:
        return stripe.PaymentIntent.confirm(
            order.payment_intent_id, payment_method=payment_method,
            stripe_account=order.stripe_account_id, api_key=settings.STRIPE_SECRET_KEY,
        )
    except stripe.CardError as error:
        return error


def sandbox_order_paid(sandbox, *, price_cents: int = 5000, card: str = "pm_card_visa",
                       funds_available: bool = False) -> Order:
    """An order paid on the sandbox with a test card, its webhooks delivered. `funds_available`
    moves the clock past the payout delay, so the sale's money is available and a refund goes
    through at once rather than waiting on the seller's balance."""
    order = sandbox_order(sandbox, price_cents=price_cents)
    pay(order, card)
    deliver(sandbox)
    if funds_available:
        sandbox.advance_time(PAYOUT_DELAY_SECONDS)
    order.refresh_from_db()
    return order


def sandbox_order_bought(sandbox, card: str = "pm_card_visa", **fields) -> Order:
    """A purchase from a seller at seller@example.com, the order given `fields`, paid with
    Stripe's test `card` (one that disputes, one that warns of fraud, ...), and every webhook
    delivered with what each commit queued (the emails) run, as the root conftest's
    `order_paid_with` makes one."""
    from django.test import TestCase

    seller = sandbox_seller_onboarded(sandbox, email="seller@example.com")
    order = sandbox_order(sandbox, seller=seller)
    if fields:
        Order.objects.filter(pk=order.pk).update(**fields)
    pay(order, card)
    with TestCase.captureOnCommitCallbacks(execute=True):
        deliver(sandbox)
    order.refresh_from_db()
    return order


def sandbox_refunds(sandbox, order) -> list[dict]:
    """The refunds Stripe made on the order's PaymentIntent (from its refund.created events)."""
    return [
        event["data"]["object"]
        for event in sandbox.events(type="refund.created")
        if event["data"]["object"]["payment_intent"] == order.payment_intent_id
    ]


def deliver(sandbox) -> None:
    assert sandbox.flush_deliveries(), "some webhook deliveries are still pending"
    failed = [d for d in sandbox.deliveries if d["status"] == "failed"]
    assert not failed, failed
