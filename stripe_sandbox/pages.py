"""HTML pages a person (or a browser test) sees instead of Stripe's hosted pages.

* ``/_sandbox/onboarding/<token>``: Express onboarding behind an Account Link.
* ``/_sandbox/3ds/<token>``: the 3-D Secure challenge with Complete / Fail buttons.
* ``/_sandbox/dashboard/<token>``: the Express dashboard behind a login link.
* ``/_sandbox/demo-checkout``: a checkout page written exactly as for real Stripe.js.

The pages are plain HTML forms with stable labels, ids and button texts so tests can drive
them.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem;
       color: #1a1f36; }
header { border-bottom: 1px solid #e3e8ee; margin-bottom: 1.5rem; }
.badge { background: #ffde92; color: #6e4200; font-size: .75rem; padding: .1rem .4rem;
         border-radius: 4px; }
label { display: block; margin: .8rem 0 .2rem; font-weight: 600; }
input[type=text], input[type=date] { width: 100%; padding: .5rem; box-sizing: border-box; }
button { margin: 1rem .5rem 0 0; padding: .6rem 1.2rem; font-size: 1rem; cursor: pointer; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #e3e8ee;
padding: .4rem; text-align: left; }
"""


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
            # No /favicon.ico here: without an icon the browser asks for one (a 404 in its console).
            "<link rel='icon' href='data:,'></head><body>"
            f"<header><h1>{html.escape(title)} <span class='badge'>Stripe sandbox</span></h1>"
            f"</header>{body}</body></html>")


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"


def with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def onboarding_page(account: dict[str, Any], action: str) -> str:
    e = html.escape
    body = f"""
<p>Set up payouts for <strong>{e(account.get('email') or account['id'])}</strong>
(<code>{e(account['id'])}</code>, {e(account['country'])}).</p>
<form method="post" action="{e(action)}">
  <label for="first_name">First name</label>
  <input type="text" id="first_name" name="first_name" value="Jenny" required>
  <label for="last_name">Last name</label>
  <input type="text" id="last_name" name="last_name" value="Rosen" required>
  <label for="dob">Date of birth</label>
  <input type="date" id="dob" name="dob" value="1990-01-01" required>
  <label for="routing_number">Routing number (test bank account)</label>
  <input type="text" id="routing_number" name="routing_number" value="110000000">
  <label for="account_number">Account number</label>
  <input type="text" id="account_number" name="account_number" value="000123456789">
  <label><input type="checkbox" id="leave_due" name="leave_due" value="1">
    Leave requirements due (test the incomplete path)</label>
  <button type="submit" id="submit">Agree and submit</button>
</form>"""
    return page("Onboarding", body)


def three_d_secure_page(pi: dict[str, Any], action: str) -> str:
    e = html.escape
    body = f"""
<p>Authenticate the payment of <strong>{money(pi['amount'])}</strong>
(<code>{e(pi['id'])}</code>).</p>
<p>This is the sandbox's 3-D Secure test page: choose what the cardholder does.</p>
<form method="post" action="{e(action)}">
  <button type="submit" name="action" value="complete" id="complete">Complete authentication</button>
  <button type="submit" name="action" value="fail" id="fail">Fail authentication</button>
</form>"""
    return page("3D Secure 2 Test Page", body)


def message_page(title: str, message: str) -> str:
    return page(title, f"<p id='message'>{html.escape(message)}</p>")


def dashboard_page(account: dict[str, Any], available: int, pending: int,
                   charges: list[dict[str, Any]]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td><code>{e(c['id'])}</code></td><td>{money(c['amount'])}</td>"
        f"<td>{e(c['status'])}</td><td>{money(c['amount_refunded'])}</td>"
        f"<td>{'yes' if c['disputed'] else 'no'}</td><td>{e(c.get('description') or '')}</td></tr>"
        for c in charges)
    body = f"""
<p>Express dashboard for <strong>{e(account.get('email') or account['id'])}</strong>
(<code>{e(account['id'])}</code>)</p>
<h2>Balance</h2>
<p>Available: <strong id="available">{money(available)}</strong> ·
   Pending: <strong id="pending">{money(pending)}</strong></p>
<h2>Payments</h2>
<table id="payments"><tr><th>Charge</th><th>Amount</th><th>Status</th><th>Refunded</th>
<th>Disputed</th><th>Description</th></tr>{rows}</table>"""
    return page("Express dashboard", body)


def demo_checkout_page(params: dict[str, Any], stripe_js_url: str = "/v3/") -> str:
    """A merchant page that uses the Stripe.js API exactly as the real one is used."""
    config = {
        "publishableKey": params.get("publishable_key") or "pk_test_sandbox",
        "stripeAccount": params.get("account") or None,
        "clientSecret": params.get("client_secret") or "",
        "returnUrl": params.get("return_url") or "",
        "redirect": params.get("redirect") or "if_required",
    }
    body = f"""
<form id="payment-form">
  <div id="payment-element"></div>
  <button id="submit" type="submit">Pay</button>
  <div id="payment-message" role="status"></div>
</form>
<script src="{html.escape(stripe_js_url)}"></script>
<script>
const config = {json.dumps(config)};
const stripe = Stripe(config.publishableKey, {{stripeAccount: config.stripeAccount}});
const message = document.getElementById('payment-message');
const returned = new URLSearchParams(window.location.search).get('payment_intent_client_secret');
if (returned) {{
  stripe.retrievePaymentIntent(returned).then(({{paymentIntent, error}}) => {{
    message.textContent = error ? error.message : 'Payment status: ' + paymentIntent.status;
  }});
}}
const elements = stripe.elements({{clientSecret: config.clientSecret,
                                   appearance: {{theme: 'stripe'}}}});
const paymentElement = elements.create('payment');
paymentElement.mount('#payment-element');
document.getElementById('payment-form').addEventListener('submit', async (event) => {{
  event.preventDefault();
  const {{error: submitError}} = await elements.submit();
  if (submitError) {{ message.textContent = submitError.message; return; }}
  const {{error, paymentIntent}} = await stripe.confirmPayment({{
    elements, confirmParams: {{return_url: config.returnUrl || window.location.href}},
    redirect: config.redirect,
  }});
  message.textContent = error ? error.message : 'Payment status: ' + paymentIntent.status;
}});
</script>"""
    return page("Demo checkout", body)
