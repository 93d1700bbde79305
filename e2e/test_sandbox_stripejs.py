"""The sandbox's Stripe.js stand-in in a real browser: card form, confirmation, 3-D Secure.

No Django and no database: the sandbox serves everything over real HTTP on a free port
(``stripe_sandbox_server``), and the merchant page comes from a second origin so the
cross-origin API calls (CORS, publishable key, Stripe-Account) are exercised as on the site.
"""

import os
import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
import stripe
from playwright.sync_api import expect

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def sandbox(stripe_sandbox_server):
    return stripe_sandbox_server


@pytest.fixture
def merchant_site(sandbox):
    """A second origin serving the sandbox's demo checkout page (written like a real shop page)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = self.path.partition("?")[2]
            with urllib.request.urlopen(f"{sandbox.url}/_sandbox/demo-checkout?{query}") as page:
                body = page.read()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def checkout_url(sandbox, merchant_site, return_query="", **overrides):
    """A checkout page for a new PaymentIntent; with ``return_query`` it returns to itself."""
    client = stripe.StripeClient(sandbox.api_key, base_addresses={"api": sandbox.url},
                                 max_network_retries=0)
    account = sandbox.app.create_account(email="seller@example.com")
    pi = client.v1.payment_intents.create(
        params={"amount": 2500, "currency": "usd", "application_fee_amount": 250,
                "payment_method_types": ["card"]},
        options={"stripe_account": account["id"]})
    params = {"publishable_key": sandbox.publishable_key, "account": account["id"],
              "client_secret": pi.client_secret, "redirect": "if_required", **overrides}
    if return_query:
        params["return_url"] = f"{merchant_site}/checkout?{urlencode(params)}&{return_query}"
    return f"{merchant_site}/checkout?{urlencode(params)}", pi.id, account["id"]


def fill_card(page, number, expiry="12 / 34", cvc="123"):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date MM / YY").fill(expiry)
    page.get_by_label("CVC").fill(cvc)


def intent_status(sandbox, pi_id):
    return sandbox.app.get(pi_id)["status"]


def test_the_4242_card_pays_without_leaving_the_page(page, sandbox, merchant_site):
    url, pi_id, _ = checkout_url(sandbox, merchant_site)
    page.goto(url)
    card_inputs = page.locator("#payment-element input")
    expect(card_inputs).to_have_count(3)
    for index in range(3):
        assert card_inputs.nth(index).get_attribute("name") is None
    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#payment-message")).to_have_text("Payment status: succeeded")
    assert intent_status(sandbox, pi_id) == "succeeded"


def test_an_incomplete_card_is_refused_before_calling_stripe(page, sandbox, merchant_site):
    url, pi_id, _ = checkout_url(sandbox, merchant_site)
    page.goto(url)
    page.get_by_label("Card number").fill("4242 4242")
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#payment-message")).to_have_text("Your card number is incomplete.")
    assert intent_status(sandbox, pi_id) == "requires_payment_method"


def test_a_declined_card_shows_stripes_message(page, sandbox, merchant_site):
    url, pi_id, _ = checkout_url(sandbox, merchant_site)
    page.goto(url)
    fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#payment-message")).to_have_text("Your card was declined.")
    assert intent_status(sandbox, pi_id) == "requires_payment_method"


def test_the_3d_secure_card_goes_through_the_authentication_page(page, sandbox, merchant_site):
    url, pi_id, _ = checkout_url(sandbox, merchant_site, return_query="back=1")
    page.goto(url)
    fill_card(page, "4000 0025 0000 3155")
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(re.compile(re.escape(sandbox.url) + r"/_sandbox/3ds/"))
    page.get_by_role("button", name="Complete authentication").click()
    expect(page).to_have_url(re.compile(
        re.escape(merchant_site) + r"/checkout\?.*payment_intent=" + pi_id
        + r".*redirect_status=succeeded"))
    expect(page.locator("#payment-message")).to_have_text("Payment status: succeeded")
    assert intent_status(sandbox, pi_id) == "succeeded"
    charge = sandbox.app.get(sandbox.app.get(pi_id)["latest_charge"])
    assert charge["payment_method_details"]["card"]["three_d_secure"]["result"] == "authenticated"


def test_failing_3d_secure_returns_with_a_failed_status(page, sandbox, merchant_site):
    url, pi_id, _ = checkout_url(sandbox, merchant_site, return_query="back=1")
    page.goto(url)
    fill_card(page, "4000 0025 0000 3155")
    page.get_by_role("button", name="Pay").click()
    page.get_by_role("button", name="Fail authentication").click()
    expect(page).to_have_url(re.compile(r"redirect_status=failed"))
    expect(page.locator("#payment-message")).to_have_text(
        "Payment status: requires_payment_method")


def test_redirect_always_returns_to_the_return_url_with_stripes_query(page, sandbox,
                                                                       merchant_site):
    url, pi_id, _ = checkout_url(sandbox, merchant_site, redirect="always", return_query="order=7")
    page.goto(url)
    fill_card(page, "4242424242424242")
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(re.compile(r"order=7&payment_intent=" + pi_id
                                        + r"&payment_intent_client_secret=.+"
                                        + r"&redirect_status=succeeded"))
    expect(page.locator("#payment-message")).to_have_text("Payment status: succeeded")
