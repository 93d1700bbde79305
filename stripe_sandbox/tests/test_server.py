"""The real server over real HTTP, driven by stripe-python's own HTTP client."""

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import stripe

from stripe_sandbox.server import STOP_POLL_SECONDS

REPO_ROOT = Path(__file__).resolve().parents[2]


def stripe_client(url):
    return stripe.StripeClient("sk_test_server", base_addresses={"api": url},
                               max_network_retries=0)


def start_cli(*args):
    """Start ``python -m stripe_sandbox --port 0 ...`` and return (process, url)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "stripe_sandbox", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=REPO_ROOT, env=env)
    line = process.stdout.readline()
    found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if not found:
        process.kill()
        raise AssertionError(f"sandbox did not start: {line}{process.stdout.read()}")
    return process, found.group(1)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


def test_help_documents_the_flags():
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    output = subprocess.run([sys.executable, "-m", "stripe_sandbox", "--help"], env=env,
                            capture_output=True, text=True, check=True).stdout
    for flag in ("--port", "--state", "--reset", "--public-url", "--webhook",
                 "--connect-webhook", "--retry-delays", "--max-attempts"):
        assert flag in output


def test_state_file_keeps_accounts_across_a_restart_and_reset_empties_it(tmp_path):
    state = tmp_path / "sandbox.json"
    process, url = start_cli("--state", str(state))
    try:
        client = stripe_client(url)
        account = client.v1.accounts.create(params={"type": "express", "country": "US"})
        link = client.v1.account_links.create(params={
            "account": account.id, "type": "account_onboarding",
            "refresh_url": "http://shop.test/r", "return_url": "http://shop.test/ok"})
        assert link.url.startswith(url + "/_sandbox/onboarding/")
        platform_id = client.v1.accounts.retrieve_current().id
    finally:
        stop(process)

    process, url = start_cli("--state", str(state))
    try:
        client = stripe_client(url)
        assert client.v1.accounts.retrieve(account.id).id == account.id
        assert client.v1.accounts.retrieve_current().id == platform_id
    finally:
        stop(process)

    process, url = start_cli("--state", str(state), "--reset")
    try:
        client = stripe_client(url)
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.accounts.retrieve(account.id)
        assert client.v1.accounts.list().data == []
    finally:
        stop(process)


def test_cli_webhook_endpoints_receive_signed_events(tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.path, dict(self.headers),
                             self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": STOP_POLL_SECONDS},
                     daemon=True).start()
    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    process, url = start_cli("--webhook", f"{base}/payments/webhook/=whsec_platform",
                             "--connect-webhook", f"{base}/payments/webhook/connect/=whsec_conn")
    try:
        client = stripe_client(url)
        account = client.v1.accounts.create(params={"type": "express"})
        urllib.request.urlopen(urllib.request.Request(
            f"{url}/_sandbox/accounts/{account.id}/onboard", data=b"", method="POST")).read()
        deadline = time.time() + 5
        while not received and time.time() < deadline:
            time.sleep(0.05)
        path, headers, body = received[0]
        assert path == "/payments/webhook/connect/"
        event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_conn")
        assert event.type == "account.updated" and event.account == account.id
    finally:
        stop(process)
        receiver.shutdown()
        receiver.server_close()


def test_server_fixture_serves_the_sdk_over_http(stripe_sandbox_server):
    client = stripe_client(stripe_sandbox_server.url)
    account = stripe_sandbox_server.app.create_account()
    pi = client.v1.payment_intents.create(
        params={"amount": 5000, "currency": "usd", "application_fee_amount": 500,
                "payment_method": "pm_card_visa", "confirm": True},
        options={"stripe_account": account["id"], "idempotency_key": "k1"})
    assert pi.status == "succeeded"
    again = client.v1.payment_intents.create(
        params={"amount": 5000, "currency": "usd", "application_fee_amount": 500,
                "payment_method": "pm_card_visa", "confirm": True},
        options={"stripe_account": account["id"], "idempotency_key": "k1"})
    assert again.id == pi.id
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(
            params={"amount": 5000, "currency": "usd", "payment_method": "pm_card_chargeDeclined",
                    "confirm": True}, options={"stripe_account": account["id"]})
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_live_x", base_addresses={"api": stripe_sandbox_server.url}
                            ).v1.balance.retrieve()
    assert stripe_sandbox_server.url.startswith("http://127.0.0.1:")


def test_injected_timeout_over_http_is_a_connection_error(stripe_sandbox_server):
    stripe_sandbox_server.app.fail_next("/v1/balance", exception="timeout")
    with pytest.raises(stripe.APIConnectionError):
        stripe_client(stripe_sandbox_server.url).v1.balance.retrieve()
    assert stripe_client(stripe_sandbox_server.url).v1.balance.retrieve().object == "balance"


def test_stripe_js_and_pages_are_served(stripe_sandbox_server):
    with urllib.request.urlopen(stripe_sandbox_server.url + "/v3/") as response:
        assert response.headers["Content-Type"].startswith("application/javascript")
        assert b"Stripe" in response.read()
    request = urllib.request.Request(stripe_sandbox_server.url + "/v1/payment_intents",
                                     method="OPTIONS")
    with urllib.request.urlopen(request) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_concurrent_requests_with_one_idempotency_key_make_one_payment(stripe_sandbox_server):
    from concurrent.futures import ThreadPoolExecutor

    account = stripe_sandbox_server.app.create_account()

    def create(_):
        return stripe_client(stripe_sandbox_server.url).v1.payment_intents.create(
            params={"amount": 5000, "currency": "usd"},
            options={"stripe_account": account["id"], "idempotency_key": "order-1-pi"}).id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(create, range(16)))
    assert len(ids) == 1
    listed = stripe_client(stripe_sandbox_server.url).v1.payment_intents.list(
        options={"stripe_account": account["id"]})
    assert [pi.id for pi in listed.data] == list(ids)
