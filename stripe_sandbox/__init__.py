"""stripe_sandbox: an offline, stateful Stripe Connect emulator for development and tests.

It speaks enough of Stripe's v1 API (form-encoded requests, Stripe's JSON shapes, ids,
errors, idempotency as Stripe keeps it (first answer for 24 h, 500s included), ``Stripe-Account``
scoping, ``expand[]``, controller properties, negative balances) for direct charges on Express
accounts: accounts, account links and the onboarding page, login links, balance,
PaymentIntents with Stripe's test cards (decline, 3-D Secure, dispute), charges, application
fees, refunds, disputes, events and signed webhooks, plus a Stripe.js stand-in at ``/v3/``.
It imports neither Django nor the project's apps. docs/sandbox.md has the full story.

Two ways to run it
------------------
As a server (``python -m stripe_sandbox --help``)::

    python -m stripe_sandbox --port 12111 --state var/stripe-sandbox.json \\
        --webhook http://127.0.0.1:8000/payments/webhook/=whsec_platform \\
        --connect-webhook http://127.0.0.1:8000/payments/webhook/connect/=whsec_connect

In-process, for tests (no socket)::

    import stripe
    from stripe_sandbox import Sandbox, SandboxHTTPClient

    sandbox = Sandbox(delivery_mode="manual")
    stripe.default_http_client = SandboxHTTPClient(sandbox)
    stripe.api_base = sandbox.public_url
    stripe.api_key = "sk_test_anything"

or simply use the pytest fixtures of :mod:`stripe_sandbox.pytest_plugin`: ``stripe_sandbox``
(the above, restored afterwards) and ``stripe_sandbox_server`` (a real HTTP server on a free
port: ``.url``, ``.app``).

The Python API (all on :class:`Sandbox`)
-----------------------------------------
``create_webhook_endpoint(url, secret=None, connect=False, transport=None, enabled_events=None)``
    Register an endpoint (``connect=True``: receives connected-account events, which carry
    ``account``; otherwise platform events). ``transport`` is a callable
    ``(url, headers, body_bytes) -> status | (status, body) | response-with-status_code``
    used instead of an HTTP POST. Returns the endpoint JSON plus ``secret``.
``flush_deliveries(timeout=10.0) -> bool``
    Manual mode: send every queued delivery (with retries) in the calling thread, including
    deliveries queued by the receivers themselves. Background mode: wait for the worker.
``deliveries`` / ``redeliver(delivery_id)`` / ``send_event(event_id)``
    Inspect deliveries (``id, event, event_type, endpoint, url, status, attempts``), send one
    again, or re-send an old event (to test duplicates and out-of-order delivery).
``events(type=None, account=None)``, ``get(object_id)``
    Read what happened, oldest event first.
``create_account(onboarded=True, country="US", email=None, **params)``
    An Express account with card_payments and transfers (onboarded unless told otherwise).
``complete_onboarding(account_id, leave_due=False)``
    What submitting the onboarding page does (``leave_due=True``: the incomplete path).
``set_requirements(account_id, past_due=[...], currently_due=None, disabled_reason=None,
charges_enabled=None, payouts_enabled=None, eventually_due=None, current_deadline=None,
errors=None, future_requirements=None)``
    Put an account into a verification state; sends ``account.updated``. ``errors`` are
    ``{"requirement", "code", "reason"}``; ``future_requirements`` is ``{"currently_due",
    "eventually_due", "current_deadline", "errors"}`` (None keeps the announced ones).
``disconnect_account(account_id)``, ``forget(object_id)``
    The account leaves the platform (``account.application.deauthorized``, reads refused), or
    an object answers ``resource_missing`` from now on (docs/sandbox.md, "Real Stripe's edges").
``open_dispute(charge_id, reason="fraudulent", inquiry=False)``,
``resolve_dispute(dispute_id, "won"|"lost"|"warning_closed"|"prevented")``
    A chargeback (money withdrawn) or an inquiry (none); the network's decision. Submitted
    evidence containing ``winning_evidence`` / ``losing_evidence`` decides it at once.
``complete_3ds(payment_intent_id, success=True)``
    What the 3-D Secure page's Complete / Fail buttons do.
``advance_time(seconds)``, ``now()``
    The sandbox clock (Account Link expiry after 300 s, pending -> available balance).
``fail_next(path_prefix="/v1/", status=500, exception=None|"timeout"|"connection", times=1,
method=None, after_processing=False)``, ``clear_faults()``
    Make the next calls fail; an injected timeout reaches stripe-python as
    ``stripe.APIConnectionError`` (note the SDK retries: ``times=3`` beats 2 retries).
    ``after_processing=True``: the call is carried out and only its answer is lost.
``request(method, url, data=None, headers=None) -> Response``
    Drive the sandbox's own pages in-process (``.status``, ``.header(name)``, ``.text``).
``stripe_client(api_key="sk_test_sandbox") -> stripe.StripeClient``

Delivering signed events into Django views (in a Django test)::

    from stripe_sandbox.webhooks import django_client_transport

    def test_paid(client, stripe_sandbox, settings):
        transport = django_client_transport(client)
        stripe_sandbox.create_webhook_endpoint(
            "http://testserver/payments/webhook/connect/",
            secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET, connect=True, transport=transport)
        ...  # make the payment
        assert stripe_sandbox.flush_deliveries()
"""

from .app import Sandbox, SandboxApp
from .client import SandboxHTTPClient
from .server import SandboxServer
from .webhooks import django_client_transport, http_transport, signature_header

__all__ = [
    "Sandbox", "SandboxApp", "SandboxHTTPClient", "SandboxServer",
    "django_client_transport", "http_transport", "signature_header",
]
