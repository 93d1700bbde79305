"""Structured logs: one JSON line per request, Stripe call and webhook delivery, sharing request
ids; and never a secret key, signing secret, client secret or card number (the logs of a whole
purchase are captured at DEBUG, every logger, and grepped)."""

import io
import json
import logging

import pytest
import stripe
from django.conf import settings
from django.test import Client

from accounts.tests.factories import UserFactory
from core.logs import JsonFormatter, RequestIdFilter, redact
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus
from payments.tests.factories import shipping_address
from payments.tests.webhook_support import endpoints_register, sandbox_seller_onboarded

pytestmark = pytest.mark.django_db

CARD = "4242424242424242"


@pytest.fixture
def captured():
    """Every log record of every logger, formatted as production formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in ("stripe", "django.db.backends")}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in saved[1]:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in saved[1].items():
        logging.getLogger(name).setLevel(level)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def buy(client, sandbox, card="pm_card_visa"):
    listing = ListingFactory(seller=sandbox_seller_onboarded(sandbox), price_cents=5000)
    client.force_login(UserFactory())
    started = client.post("/payments/create-payment-intent/",
                          {"listing_id": listing.pk, **shipping_address(), "card_number": CARD},
                          content_type="application/json", HTTP_X_REQUEST_ID="checkout-req-1").json()
    intent_id = started["client_secret"].split("_secret_")[0]
    try:
        stripe.PaymentIntent.confirm(intent_id, payment_method=card,
                                     stripe_account=started["stripe_account"],
                                     api_key=settings.STRIPE_SECRET_KEY)
    except stripe.CardError:
        pass
    assert sandbox.flush_deliveries()
    return started


def test_a_whole_purchase_logs_no_secret_client_secret_or_card_number(client, stripe_sandbox, captured):
    sandbox = endpoints_register(stripe_sandbox, Client())
    started = buy(client, sandbox)
    buy(Client(), sandbox, card="pm_card_chargeDeclined")
    logging.getLogger("payments").error("card %s key %s", CARD, settings.STRIPE_SECRET_KEY)  # masked too

    text = captured.getvalue()
    assert Order.objects.get(pk=started["order_id"]).status == OrderStatus.PAID
    assert len(text.splitlines()) > 20  # it did log
    for secret in (settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET,
                   settings.STRIPE_CONNECT_WEBHOOK_SECRET, started["client_secret"], CARD, "_secret_"):
        assert secret not in text


def test_requests_stripe_calls_and_deliveries_each_log_one_json_line_with_request_ids(
    client, stripe_sandbox, captured
):
    sandbox = endpoints_register(stripe_sandbox, Client())
    started = buy(client, sandbox)
    records = lines(captured)

    checkout_line = next(r for r in records
                         if r.get("event") == "http.request" and r["request_id"] == "checkout-req-1")
    assert checkout_line["path"] == "/payments/create-payment-intent/" and checkout_line["status"] == 200
    assert checkout_line["view"] == "payments:create_payment_intent" and checkout_line["duration_ms"] >= 0

    created = next(r for r in records
                   if r.get("event") == "stripe.call" and r["request_id"] == "checkout-req-1"
                   and r["method"] == "POST" and r["path"] == "/v1/payment_intents")
    assert created["status"] == 200 and created["idempotency_key"]
    assert created["stripe_account"] == started["stripe_account"]

    delivery = next(r for r in records if r.get("event") == "webhook.delivery"
                    and r["type"] == "payment_intent.succeeded")
    assert delivery["outcome"] == "processed" and delivery["account"] == started["stripe_account"]
    assert delivery["stripe_event_id"].startswith("evt_") and delivery["attempt"] == 1
    # The delivery's processing (a task) carries the request id of the webhook request that queued it.
    assert delivery["request_id"]
    assert [r["path"] for r in records if r.get("event") == "http.request"
            and r["request_id"] == delivery["request_id"]] == ["/payments/webhook/connect/"]
    # dj-stripe's re-fetch of the object is a Stripe call of that same delivery.
    assert any(r.get("event") == "stripe.call" and r["request_id"] == delivery["request_id"] for r in records)


def test_the_response_carries_the_request_id_a_client_sent_or_a_new_one(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-Id"] == "abc-123"
    made = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces\n")["X-Request-Id"]
    assert made and " " not in made and made != "bad id with spaces\n"


def test_redact_masks_keys_signing_secrets_client_secrets_and_card_numbers_but_not_amounts():
    text = redact("sk_live_abc123 rk_test_x9 whsec_q1w2 pi_3Ab_secret_Zz9 4242 4242 4242 4242 "
                  "4000-0025-0000-3155 amount=5000 order 12")
    assert text.count("[redacted]") == 6
    assert "amount=5000 order 12" in text


def test_redact_leaves_ids_whose_hex_holds_a_run_of_digits():
    # A uuid4 hex, as RequestLogMiddleware makes request ids, with 16 digits in a row.
    request_id = "412c4242424242424242afdef9b363ce"
    assert redact(f'"request_id": "{request_id}", "card": "4242424242424242"') == (
        f'"request_id": "{request_id}", "card": "[redacted]"'
    )


def test_a_log_line_keeps_a_request_id_with_a_run_of_digits():
    request_id = "0123456789012345abcdefabcdefabcd"
    record = logging.LogRecord("stubcollector.request", logging.INFO, __file__, 1, "GET / 200", None, None)
    record.request_id = request_id
    assert json.loads(JsonFormatter().format(record))["request_id"] == request_id
