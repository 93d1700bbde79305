"""The HTTP half of scripts/smoke_serve.sh: buys a stub through a running `make serve`.

    smoke_serve_buy.py SITE STATE_DIR                      # the purchase, metrics and log checks
    smoke_serve_buy.py SITE STATE_DIR --expect-unready a,b # /readyz turns 503 naming a and b

Standard library only; talks to the site and the sandbox over HTTP like a browser and Stripe.js.
"""

import http.cookiejar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

SANDBOX_KEY = "sk_test_sandbox0000000000000000000000000"
CARD = "4242424242424242"

site, state = sys.argv[1], Path(sys.argv[2])
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
results: list[tuple[str, bool]] = []


def request(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(req, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def check(name, ok):
    results.append((name, bool(ok)))
    print(f"  {'ok  ' if ok else 'FAIL'} {name}", flush=True)
    return ok


def cookie(name):
    return next((c.value for c in jar if c.name == name), "")


def until(predicate, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    return None


def expect_unready(names):
    def probe():
        try:
            status, body = request(f"{site}/readyz")
        except (urllib.error.URLError, OSError):
            return None  # a worker restarting after losing its database: ask again
        if status != 503:
            return None
        failed = json.loads(body)["failed"]
        return failed if set(names) <= set(failed) else None

    failed = until(probe, 60)
    check(f"/readyz answers 503 naming {', '.join(names)} (said: {failed})", failed)


def buy():
    status, body = request(f"{site}/readyz")
    check("/readyz is 200 with every check ok", status == 200 and json.loads(body)["failed"] == [])

    seed_log = (state / "seed_demo.log").read_text()
    match = re.search(r"^\s*buyer / (\S+)", seed_log, re.MULTILINE)
    if not check("seed_demo printed the buyer's password", match):
        return
    status, page = request(f"{site}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": "buyer", "password": match.group(1), "csrfmiddlewaretoken": token}).encode()
    status, page = request(f"{site}/accounts/login/", form, {"Referer": f"{site}/accounts/login/"})
    check("the demo buyer logs in through gunicorn", status == 200 and "Log out" in page)

    status, body = request(f"{site}/api/listings/")
    listing_id = None
    for item in json.loads(body)["results"]:
        status, body = request(f"{site}/marketplace/payment-compatibility/?listing_id={item['id']}")
        if status == 200 and json.loads(body).get("purchasable"):
            listing_id = item["id"]
            break
    if not check(f"a listing the buyer can buy (#{listing_id})", listing_id):
        return

    body = json.dumps({"listing_id": listing_id, "shipping_name": "Ada Lovelace",
                       "shipping_line1": "12 Analytical Row", "shipping_city": "Springfield",
                       "shipping_state": "IL", "shipping_postal_code": "62701", "shipping_country": "US"})
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "X-CSRFToken": cookie("csrftoken"), "Referer": f"{site}/checkout/{listing_id}/",
               "X-Request-Id": "smoke-checkout-1"}
    status, answer = request(f"{site}/payments/create-payment-intent/", body.encode(), headers)
    if not check(f"checkout creates the PaymentIntent ({status})", status == 200):
        print(answer[:500])
        return
    checkout = json.loads(answer)
    order_id, client_secret = checkout["order_id"], checkout["client_secret"]
    intent_id = client_secret.split("_secret_")[0]

    sandbox = f"http://127.0.0.1:{_sandbox_port()}"
    status, body = request(
        f"{sandbox}/v1/payment_intents/{intent_id}/confirm",
        urllib.parse.urlencode({"payment_method": "pm_card_visa"}).encode(),
        {"Authorization": f"Bearer {SANDBOX_KEY}", "Stripe-Account": checkout["stripe_account"]},
    )
    check("the card payment succeeds on the seller's account",
          status == 200 and json.loads(body)["status"] == "succeeded")

    def paid():
        status, body = request(f"{site}/payments/orders/{order_id}/status/",
                               headers={"Accept": "application/json"})
        return status == 200 and json.loads(body)["status"] == "paid"

    check(f"the webhook reached gunicorn and the worker marked order #{order_id} paid", until(paid, 90))

    delivery_counted = re.compile(r'stubcollector_webhook_deliveries_total\{outcome="processed",'
                                  r'type="payment_intent.succeeded"\} [1-9]')

    def metrics_read():
        # The worker counts a delivery just after its transaction commits (the order is paid a
        # moment before the counter moves): wait for it rather than race it.
        nonlocal status, metrics
        token = (state / "metrics_token").read_text().strip()  # written by scripts/serve.sh
        status, metrics = request(f"{site}/metrics", headers={"Authorization": f"Bearer {token}"})
        return status == 200 and bool(delivery_counted.search(metrics))

    status, metrics = 0, ""
    counted = until(metrics_read, 30)
    paid_count = re.search(r'^stubcollector_orders\{status="paid"\} (\S+)$', metrics, re.MULTILINE)
    check("/metrics counts the paid order", status == 200 and paid_count and float(paid_count.group(1)) >= 1)
    check("/metrics counts the delivery the worker processed", counted)
    check("/metrics has Stripe call latency",
          "stubcollector_stripe_request_duration_seconds_bucket" in metrics)

    def log_lines(name):
        lines = []
        for line in (state / name).read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
        return lines

    web, worker = log_lines("gunicorn.log"), log_lines("celery-worker.log")
    hooks = log_lines("webhooks.log")
    check("the sandbox delivered the payment's webhook to the webhook pool, not the pages' gunicorn",
          any(r.get("event") == "http.request" and r.get("path") == "/payments/webhook/connect/"
              and r.get("status") == 200 for r in hooks)
          and not any(r.get("event") == "http.request" and r.get("path", "").startswith("/payments/webhook/")
                      for r in web))
    check("gunicorn writes one JSON line per request with its request id",
          any(r.get("event") == "http.request" and r.get("request_id") == "smoke-checkout-1" for r in web))
    check("the checkout's Stripe call is logged with the same request id and its idempotency key",
          any(r.get("event") == "stripe.call" and r.get("request_id") == "smoke-checkout-1"
              and r.get("idempotency_key") for r in web))
    delivery = [r for r in worker if r.get("event") == "webhook.delivery" and r.get("outcome") == "processed"]
    check("the worker logs the delivery (id, type, account, outcome) with the webhook's request id",
          any(r.get("type") == "payment_intent.succeeded" and r.get("account") and r.get("request_id")
              for r in delivery))
    everything = "".join(p.read_text(errors="replace") for p in state.glob("*.log"))
    leaked = [name for name, secret in [("secret key", SANDBOX_KEY), ("signing secret", "whsec_sandbox"),
                                        ("client secret", client_secret), ("card number", CARD)]
              if secret in everything]
    check(f"no secret, client secret or card number in any log (found: {leaked or 'none'})", not leaked)


def _sandbox_port():
    env = dict(line.split("=", 1) for line in (state / "serve.env").read_text().split())
    return env["sandbox_port"]


if "--expect-unready" in sys.argv:
    expect_unready(sys.argv[sys.argv.index("--expect-unready") + 1].split(","))
else:
    buy()
sys.exit(0 if results and all(ok for _, ok in results) else 1)
