import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from stripe_sandbox import Sandbox, SandboxHTTPClient
from stripe_sandbox.server import STOP_POLL_SECONDS

from .conftest import pay


class Receiver:
    """A webhook receiver that verifies signatures like a Django view would."""

    def __init__(self, secret, fail_first=0, status=200):
        self.secret = secret
        self.fail_first = fail_first
        self.status = status
        self.calls = []
        self.events = []

    def __call__(self, url, headers, body):
        self.calls.append((url, headers, body))
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"],
                                              self.secret, tolerance=300)
        if len(self.calls) <= self.fail_first:
            return 500
        self.events.append(json.loads(body))
        return self.status


def test_events_are_signed_routed_and_delivered_once(stripe_sandbox, seller):
    connect = Receiver("whsec_connect")
    platform = Receiver("whsec_platform")
    stripe_sandbox.create_webhook_endpoint("http://testserver/payments/webhook/connect/",
                                           secret="whsec_connect", connect=True,
                                           transport=connect)
    stripe_sandbox.create_webhook_endpoint("http://testserver/payments/webhook/",
                                           secret="whsec_platform", transport=platform)
    pi = pay(seller["id"])
    assert connect.events == [] and platform.events == []  # manual mode: nothing yet
    assert stripe_sandbox.flush_deliveries()
    connect_types = [e["type"] for e in connect.events]
    assert connect_types == ["payment_intent.created", "charge.succeeded",
                             "payment_intent.succeeded"]
    assert all(e["account"] == seller["id"] for e in connect.events)
    assert [e["type"] for e in platform.events] == ["application_fee.created"]
    assert "account" not in platform.events[0]
    assert connect.events[-1]["data"]["object"]["id"] == pi.id
    assert len({e["id"] for e in connect.events}) == len(connect.events)
    # Flushing again sends nothing twice.
    assert stripe_sandbox.flush_deliveries()
    assert len(connect.calls) == 3
    event = stripe.Webhook.construct_event(connect.calls[0][2], connect.calls[0][1][
        "Stripe-Signature"], "whsec_connect")
    assert event.type == "payment_intent.created"


def test_a_failing_receiver_gets_retries(stripe_sandbox, seller):
    receiver = Receiver("whsec_x", fail_first=2)
    stripe_sandbox.create_webhook_endpoint("http://testserver/hook", secret="whsec_x",
                                           connect=True, transport=receiver,
                                           enabled_events=["payment_intent.succeeded"])
    pay(seller["id"])
    assert stripe_sandbox.flush_deliveries()
    assert len(receiver.calls) == 3
    assert [e["type"] for e in receiver.events] == ["payment_intent.succeeded"]
    delivery = stripe_sandbox.deliveries[0]
    assert delivery["status"] == "succeeded"
    assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]


def test_a_receiver_that_keeps_failing_is_given_up_after_max_attempts(stripe_sandbox, seller):
    def broken(url, headers, body):
        raise TimeoutError("receiver too slow")

    stripe_sandbox.create_webhook_endpoint("http://testserver/hook", connect=True,
                                           transport=broken,
                                           enabled_events=["payment_intent.succeeded"])
    pay(seller["id"])
    assert stripe_sandbox.flush_deliveries()
    delivery = stripe_sandbox.deliveries[0]
    assert delivery["status"] == "failed"
    assert len(delivery["attempts"]) == 4
    assert "TimeoutError" in delivery["attempts"][0]["error"]


def test_redeliver_and_resend_an_old_event(stripe_sandbox, seller):
    receiver = Receiver("whsec_r")
    stripe_sandbox.create_webhook_endpoint("http://testserver/hook", secret="whsec_r",
                                           connect=True, transport=receiver)
    pay(seller["id"])
    stripe_sandbox.flush_deliveries()
    first = stripe_sandbox.deliveries[0]
    stripe_sandbox.redeliver(first["id"])
    response = stripe_sandbox.request("POST", f"/_sandbox/events/{first['event']}/send")
    assert response.status == 200
    stripe_sandbox.flush_deliveries()
    repeated = [e["id"] for e in receiver.events].count(first["event"])
    assert repeated == 3
    listed = stripe_sandbox.request("GET", "/_sandbox/deliveries").json()["data"]
    assert len(listed) == len(stripe_sandbox.deliveries)


def test_webhook_endpoint_api(stripe_sandbox):
    endpoint = stripe.WebhookEndpoint.create(url="https://shop.test/hook", connect=True,
                                             enabled_events=["charge.succeeded"])
    assert endpoint.id.startswith("we_") and endpoint.secret.startswith("whsec_")
    fetched = stripe.WebhookEndpoint.retrieve(endpoint.id)
    assert fetched.url == "https://shop.test/hook" and "secret" not in fetched
    assert [e.id for e in stripe.WebhookEndpoint.list()] == [endpoint.id]
    deleted = stripe.WebhookEndpoint.delete(endpoint.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        stripe.WebhookEndpoint.retrieve(endpoint.id)


def test_account_updated_goes_to_connect_endpoints(stripe_sandbox):
    connect = Receiver("whsec_c")
    platform = Receiver("whsec_p")
    stripe_sandbox.create_webhook_endpoint("http://t/c", secret="whsec_c", connect=True,
                                           transport=connect)
    stripe_sandbox.create_webhook_endpoint("http://t/p", secret="whsec_p", transport=platform)
    account = stripe_sandbox.create_account(onboarded=False)
    stripe_sandbox.complete_onboarding(account["id"])
    stripe_sandbox.flush_deliveries()
    assert [e["type"] for e in connect.events] == ["account.updated"]
    assert platform.events == []


class _HTTPReceiver(BaseHTTPRequestHandler):
    received: list = []
    fail_first = 1

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = 503 if len(type(self).received) <= type(self).fail_first else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_background_delivery_over_real_http_with_retry():
    _HTTPReceiver.received = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _HTTPReceiver)
    thread = threading.Thread(target=receiver.serve_forever,
                              kwargs={"poll_interval": STOP_POLL_SECONDS}, daemon=True)
    thread.start()
    sandbox = Sandbox(retry_delays=(0.05,), max_attempts=3)
    client = sandbox.stripe_client("sk_test_bg")
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        sandbox.create_webhook_endpoint(url, secret="whsec_bg",
                                        enabled_events=["application_fee.created"])
        account = sandbox.create_account()
        client.v1.payment_intents.create(
            params={"amount": 5000, "currency": "usd", "application_fee_amount": 100,
                    "payment_method": "pm_card_visa", "confirm": True},
            options={"stripe_account": account["id"]})
        assert sandbox.flush_deliveries(timeout=5)
        assert len(_HTTPReceiver.received) == 2
        headers, body = _HTTPReceiver.received[-1]
        stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"],
                                              "whsec_bg")
        assert json.loads(body)["type"] == "application_fee.created"
    finally:
        sandbox.close()
        receiver.shutdown()
        receiver.server_close()


def test_sandbox_http_client_can_be_installed_by_hand():
    sandbox = Sandbox(delivery_mode="manual")
    saved = stripe.default_http_client, stripe.api_base
    try:
        stripe.default_http_client = SandboxHTTPClient(sandbox)
        stripe.api_base = sandbox.public_url
        assert stripe.Account.retrieve(api_key="sk_test_1").id == sandbox.platform_account_id
    finally:
        stripe.default_http_client, stripe.api_base = saved
        sandbox.close()


def test_django_client_transport_posts_path_body_and_signature_as_django_expects(
        stripe_sandbox, seller):
    from stripe_sandbox.webhooks import django_client_transport

    class FakeResponse:
        status_code = 200

    class FakeDjangoClient:
        calls = []

        def post(self, path, data=None, content_type=None, **extra):
            self.calls.append((path, data, content_type, extra))
            return FakeResponse()

    client = FakeDjangoClient()
    stripe_sandbox.create_webhook_endpoint(
        "http://testserver/payments/webhook/connect/?x=1", secret="whsec_d", connect=True,
        transport=django_client_transport(client, REMOTE_ADDR="3.18.12.63"),
        enabled_events=["payment_intent.succeeded"])
    pay(seller["id"])
    assert stripe_sandbox.flush_deliveries()
    path, data, content_type, extra = client.calls[0]
    assert path == "/payments/webhook/connect/?x=1"
    assert content_type == "application/json; charset=utf-8"
    assert extra["REMOTE_ADDR"] == "3.18.12.63"
    event = stripe.Webhook.construct_event(data, extra["HTTP_STRIPE_SIGNATURE"], "whsec_d")
    assert event.type == "payment_intent.succeeded"
    assert stripe_sandbox.deliveries[0]["status"] == "succeeded"


def test_events_name_the_request_that_caused_them(stripe_sandbox, seller):
    stripe.PaymentIntent.create(amount=5000, currency="usd", idempotency_key="order-9",
                                stripe_account=seller["id"])
    event = stripe_sandbox.events("payment_intent.created")[-1]
    assert event["request"]["idempotency_key"] == "order-9"
    assert event["request"]["id"].startswith("req_")
