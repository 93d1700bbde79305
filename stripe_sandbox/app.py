"""The sandbox application: routing, auth, idempotency, faults, webhooks and the Python API.

:class:`Sandbox` is transport-agnostic: ``handle(Request) -> Response`` is called by the HTTP
server (:mod:`stripe_sandbox.server`), by the in-process stripe-python client
(:mod:`stripe_sandbox.client`), and by WSGI (``Sandbox`` is a WSGI callable too).
See the package docstring for the public API.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import pickle
import re
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from . import pages
from .api import PLATFORM, StripeApi
from .errors import StripeError, authentication_error, invalid_request, missing_resource
from .forms import as_bool, as_list, parse_form, parse_multipart
from .known_params import KNOWN_PARAMS
from .messages import Request, Response, html_response, json_response, redirect
from .objects import new_id
from .resources.disputes import OUTCOMES as DISPUTE_OUTCOMES
from .store import Store, public_view
from .webhooks import CHAOS_KINDS, Delivery, DeliveryChaos, Dispatcher, Transport, http_transport

log = logging.getLogger("stripe_sandbox")

STATIC_DIR = Path(__file__).parent / "static"
CORS_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Headers",
     "Authorization, Stripe-Account, Content-Type, Idempotency-Key, Stripe-Version"),
    ("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS"),
    ("Access-Control-Max-Age", "600"),
]

# Resources the sandbox does not model: a list of them is empty and any id is unknown, so
# code that merely looks (dj-stripe syncing a customer, say) gets Stripe's answers, not a crash.
UNMODELED_RESOURCES = {
    "customers": "customer", "products": "product", "prices": "price", "invoices": "invoice",
    "invoiceitems": "invoiceitem", "subscriptions": "subscription", "plans": "plan",
    "coupons": "coupon", "transfers": "transfer", "topups": "topup",
    "setup_intents": "setup_intent", "setup_attempts": "setup_attempt", "sources": "source",
    "tokens": "token", "file_links": "file_link", "tax_rates": "tax_rate",
    "promotion_codes": "promotion_code", "reviews": "review", "mandates": "mandate",
    "payment_links": "payment_link", "shipping_rates": "shipping_rate",
    "credit_notes": "credit_note", "subscription_items": "subscription_item",
    "subscription_schedules": "subscription_schedule", "country_specs": "country_spec",
    "application_fees": "application_fee", "transfer_reversals": "transfer_reversal",
    "quotes": "quote", "tax_ids": "tax_id", "payment_method_domains": "payment_method_domain",
    "payment_method_configurations": "payment_method_configuration",
}


# Stripe keeps an idempotency key's first answer for at least 24 hours.
IDEMPOTENCY_TTL = 24 * 3600


def _began_executing(response: Response) -> bool:
    """Stripe stores every answer except a request refused before it started: a parameter
    that fails validation (400 invalid_request_error) or a missing object it names (404)."""
    if response.status < 400 or response.status == 402 or response.status >= 500:
        return True
    try:
        error = json.loads(response.body.decode("utf-8")).get("error") or {}
    except ValueError:
        return False
    return error.get("type") not in ("invalid_request_error", "idempotency_error")


# What a page opened with an unknown (or another kind of) one-time link says, by link kind.
LINK_NOT_FOUND = {
    "account_link": ("Link not found", "This onboarding link is unknown."),
    "login_link": ("Link not found", "This login link is unknown."),
    "three_d_secure": ("Authentication not found", "This authentication is unknown or already finished."),
}


def _link_page(kind: str):
    """A page behind a one-time link of `kind`: the handler runs under the store's lock with the
    link found from the path's token; an unknown token is a 404 page."""

    def wrap(handler):
        @functools.wraps(handler)
        def page(self: Sandbox, request: Request) -> Response:
            with self.store.lock:
                link = self._link(request.path_args["token"], kind)
                if link is None:
                    return html_response(pages.message_page(*LINK_NOT_FOUND[kind]), 404)
                return handler(self, request, link)

        return page

    return wrap


@dataclass
class Fault:
    path_prefix: str
    method: str | None
    status: int
    exception: str | None  # "timeout" | "connection" | None
    remaining: int
    # True: Stripe carries the request out and only the answer is lost on the way back.
    after_processing: bool = False

    def matches(self, request: Request) -> bool:
        return (self.remaining > 0 and request.path.startswith(self.path_prefix)
                and (self.method is None or self.method == request.method))


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    handler: Callable[[Request], Any]
    publishable: bool = False  # may a pk_test_ key call it (Stripe.js does)?
    known_params: frozenset[str] | None = None  # None: not checked

    def check_params(self, params: dict[str, Any]) -> None:
        if self.known_params is None:
            return
        unknown = sorted(set(params) - self.known_params - {"expand"})
        if unknown:
            raise invalid_request(f"Received unknown parameter: {unknown[0]}", param=unknown[0])


def _deep_copy(value: Any) -> Any:
    """A deep copy of plain data (dicts, lists, strings, Delivery records) through pickle:
    several times faster than copy.deepcopy on the sandbox's state, which a shared test purchase
    copies into every test that takes it."""
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


class Sandbox:
    """An offline, stateful Stripe Connect: see the package docstring."""

    def __init__(
        self,
        *,
        state_path: str | Path | None = None,
        reset: bool = False,
        public_url: str = "http://127.0.0.1:12111",
        delivery_mode: str = "background",
        retry_delays: Iterable[float] = (0.5, 1.0, 2.0),
        max_attempts: int = 4,
        delivery_timeout: float = 5.0,
        livemode: bool = False,
        automatic_payouts: bool = False,
    ) -> None:
        self.public_url = public_url.rstrip("/")
        self.store = Store(state_path, reset=reset)
        self.store.livemode = livemode
        # Pay out connected accounts' available balances on their schedules as the clock moves
        # (resources/payouts.py). Off by default: most tests move the clock to make a sale's
        # money available and then refund from it; `python -m stripe_sandbox` turns it on.
        self.automatic_payouts = automatic_payouts
        self.api = StripeApi(self.store, lambda: self.public_url, self._event_created)
        self._transports: dict[str, Transport] = {}
        self._default_transport = http_transport(delivery_timeout)
        self.dispatcher = Dispatcher(self._endpoint_for_delivery, mode=delivery_mode,
                                     retry_delays=tuple(retry_delays), max_attempts=max_attempts)
        self._faults: list[Fault] = []
        self._faults_lock = threading.Lock()
        with self.store.lock:
            self.api.platform_account()
            self.store.save()
        self._routes = self._build_routes()

    # =====================================================================================
    # Python API for tests and tools
    # =====================================================================================
    @property
    def platform_account_id(self) -> str:
        return self.api.platform_account()["id"]

    def create_webhook_endpoint(self, url: str, secret: str | None = None, connect: bool = False,
                                transport: Transport | None = None,
                                enabled_events: list[str] | None = None) -> dict[str, Any]:
        """Register an endpoint; returns its public JSON plus ``secret``.

        ``transport`` (``(url, headers, body) -> status``) replaces the network POST, e.g.
        ``webhooks.django_client_transport(client)``.
        """
        with self.store.lock:
            endpoint = self.api.new_webhook_endpoint(url, secret=secret, connect=connect,
                                                     enabled_events=enabled_events)
            if transport is not None:
                self._transports[endpoint["id"]] = transport
            self.store.save()
            return {**public_view(endpoint), "secret": endpoint["_secret"]}

    def flush_deliveries(self, timeout: float = 10.0) -> bool:
        """Send every queued webhook (manual mode) or wait for the worker (background mode)."""
        return self.dispatcher.flush(timeout)

    def state_copy(self) -> dict[str, Any]:
        """A deep copy of everything the sandbox knows (objects, idempotency records, tokens,
        the clock's offset, the deliveries made so far), for `state_restore` into another
        sandbox: a test can start from a state built once instead of making it again."""
        with self.store.lock, self.dispatcher._condition:
            store = self.store
            return _deep_copy({
                "objects": store.objects, "by_kind": store._by_kind,
                "idempotency": store.idempotency, "tokens": store.tokens,
                "platform_account_id": store.platform_account_id, "sequence": store._sequence,
                "clock_offset": store.clock.offset, "deliveries": self.dispatcher.deliveries,
                "chaos_counts": self.dispatcher.chaos_counts,
            })

    def state_restore(self, state: dict[str, Any], transport: Transport | None = None) -> None:
        """Replace this sandbox's state with a copy of `state` (from `state_copy`); every
        webhook endpoint in it delivers through `transport` (the network when None). Nothing
        may be in flight: the deliveries are replaced too."""
        state = _deep_copy(state)
        with self.store.lock, self.dispatcher._condition:
            if self.dispatcher._in_flight or self.dispatcher.pending():
                raise RuntimeError("cannot restore a sandbox with deliveries still pending")
            store = self.store
            store.objects, store._by_kind = state["objects"], state["by_kind"]
            store.idempotency, store.tokens = state["idempotency"], state["tokens"]
            store.platform_account_id, store._sequence = state["platform_account_id"], state["sequence"]
            store.clock.offset = state["clock_offset"]
            self.dispatcher.deliveries = state["deliveries"]
            self.dispatcher.chaos_counts = state["chaos_counts"]
            self._transports = {}
            if transport is not None:
                for endpoint in store.all("webhook_endpoint", PLATFORM):
                    self._transports[endpoint["id"]] = transport
            store.save()

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        return [delivery.as_dict() for delivery in list(self.dispatcher.deliveries)]

    def set_delivery_chaos(self, *, duplicate: float = 0.0, reorder: float = 0.0,
                           delay: float = 0.0, reorder_seconds: float = 2.0,
                           delay_seconds: float = 15.0, seed: int | None = None) -> dict[str, Any]:
        """Send shares of the new deliveries twice, out of order or late, as Stripe may
        (stripe_sandbox.webhooks.DeliveryChaos; all shares 0 turns it off)."""
        self.dispatcher.set_chaos(DeliveryChaos(duplicate, reorder, delay, reorder_seconds,
                                                delay_seconds, seed))
        return self.delivery_chaos

    @property
    def delivery_chaos(self) -> dict[str, Any]:
        """The delivery chaos setting and what it did so far, by kind."""
        with self.dispatcher._condition:
            counts = {kind: self.dispatcher.chaos_counts[kind] for kind in CHAOS_KINDS}
            return {**self.dispatcher.chaos.as_dict(), "counts": counts}

    def redeliver(self, delivery_id: str) -> dict[str, Any]:
        delivery = self.dispatcher.redeliver(delivery_id)
        if delivery is None:
            raise KeyError(delivery_id)
        return delivery.as_dict()

    def send_event(self, event_id: str) -> list[dict[str, Any]]:
        """Queue an existing event again to every endpoint it belongs to."""
        with self.store.lock:
            event = self.store.get(event_id, None, "event")
            if event is None:
                raise KeyError(event_id)
            return [d.as_dict() for d in self._queue_deliveries(event)]

    def events(self, type: str | None = None, account: str | None = None) -> list[dict[str, Any]]:
        """Events, oldest first: ``account="platform"``, an ``acct_…``, or None for all."""
        with self.store.lock:
            found = [public_view(e) for e in self.store.all("event")
                     if (type is None or e["type"] == type)
                     and (account is None or e["_scope"] == account)]
        return list(reversed(found))

    def get(self, object_id: str) -> dict[str, Any] | None:
        with self.store.lock:
            obj = self.store.get(object_id)
            return self.api.render(obj) if obj else None

    def create_account(self, *, onboarded: bool = True, country: str = "US",
                       email: str | None = None, **params: Any) -> dict[str, Any]:
        """An Express account with card_payments and transfers, onboarded unless told not to."""
        with self.store.lock:
            # type=express unless controller properties are given (Stripe takes one or the other).
            request = Request("POST", "/v1/accounts", params={
                **({} if "controller" in params else {"type": "express"}),
                "country": country, "email": email,
                "capabilities": {"card_payments": {"requested": "true"},
                                 "transfers": {"requested": "true"}}, **params})
            account = self.api.create_account(request)
            if onboarded:
                self.api.complete_onboarding(account["id"])
            self.store.save()
            return self.api.render(account)

    def complete_onboarding(self, account_id: str, leave_due: bool = False) -> dict[str, Any]:
        """Same effect as submitting the onboarding page (sends account.updated)."""
        with self.store.lock:
            account = self.api.complete_onboarding(account_id, leave_due=leave_due)
            self.store.save()
            return self.api.render(account)

    def set_requirements(self, account_id: str, *, past_due: list[str] | None = None,
                         currently_due: list[str] | None = None,
                         eventually_due: list[str] | None = None,
                         disabled_reason: str | None = None,
                         charges_enabled: bool | None = None,
                         payouts_enabled: bool | None = None,
                         current_deadline: int | None = None,
                         errors: list[dict[str, Any]] | None = None,
                         future_requirements: dict[str, Any] | None = None) -> dict[str, Any]:
        with self.store.lock:
            account = self.api.set_requirements(
                account_id, past_due=past_due, currently_due=currently_due,
                eventually_due=eventually_due, disabled_reason=disabled_reason,
                charges_enabled=charges_enabled, payouts_enabled=payouts_enabled,
                current_deadline=current_deadline, errors=errors,
                future_requirements=future_requirements)
            self.store.save()
            return self.api.render(account)

    def open_dispute(self, charge_id: str, reason: str = "fraudulent",
                     inquiry: bool = False) -> dict[str, Any]:
        with self.store.lock:
            charge = self.api.find_anywhere("charge", charge_id)
            dispute = self.api.open_dispute(charge, reason=reason, inquiry=inquiry)
            self.store.save()
            return self.api.render(dispute)

    def resolve_dispute(self, dispute_id: str, outcome: str) -> dict[str, Any]:
        with self.store.lock:
            dispute = self.api.resolve_dispute(self.api.find_anywhere("dispute", dispute_id),
                                               outcome)
            self.store.save()
            return self.api.render(dispute)

    def complete_3ds(self, payment_intent_id: str, success: bool = True) -> dict[str, Any]:
        """What the 3-D Secure page's Complete (or Fail) button does."""
        with self.store.lock:
            pi = self.api.find_anywhere("payment_intent", payment_intent_id)
            pi = self.api.authenticate_payment_intent(pi["id"], pi["_scope"], success=success)
            self.store.save()
            return self.api.render(pi)

    def disconnect_account(self, account_id: str) -> dict[str, Any]:
        """The account stops being the platform's (the seller disconnects it, or Stripe closes
        the link): sends ``account.application.deauthorized``; later reads of it are refused."""
        with self.store.lock:
            self.api.deauthorize(account_id)
            self.store.save()
            return {"id": account_id, "object": "account", "deauthorized": True}

    def forget(self, object_id: str) -> None:
        """Make Stripe answer ``resource_missing`` for an object from now on (it was deleted or
        is no longer visible to the platform), e.g. before delivering an event about it."""
        with self.store.lock:
            obj = self.store.objects.pop(object_id, None)
            if obj is not None:
                self.store._by_kind.get(obj.get("object", ""), {}).pop(object_id, None)
            self.store.save()

    def now(self) -> int:
        return self.store.clock.now()

    def advance_time(self, seconds: float) -> int:
        """Move the sandbox clock (link expiry, pending -> available, pending refunds that the
        balance now covers, refunds of the refund-failure card, and with ``automatic_payouts``
        the payouts due on each account's schedule); returns the new time."""
        with self.store.lock:
            self.store.clock.advance(seconds)
            self.api.settle_refunds()
            if self.automatic_payouts:  # after the refunds: they come first from the balance
                self.api.payouts_run()
            self.api.expire_disputes()  # unanswered by their due date
            self.store.save()
            return self.store.clock.now()

    def settle_refunds(self, refund_id: str | None = None) -> list[dict[str, Any]]:
        """Let "some time later" happen to refunds now (all, or one): see RefundsApi.settle_refunds."""
        with self.store.lock:
            moved = self.api.settle_refunds(refund_id)
            self.store.save()
            return [self.api.render(refund) for refund in moved]

    def fail_next(self, path_prefix: str = "/v1/", status: int = 500, *,
                  exception: str | type[Exception] | None = None, times: int = 1,
                  method: str | None = None, after_processing: bool = False) -> None:
        """Make the next ``times`` API calls under ``path_prefix`` fail.

        ``exception="timeout"`` (or ``"connection"``) makes them fail like the network does:
        the in-process client raises ``stripe.APIConnectionError`` and the HTTP server closes
        the connection without answering. Otherwise they answer ``status`` with an
        ``api_error`` body. Note that stripe-python retries 5xx and connection errors
        ``max_network_retries`` times (default 2), so use ``times=3`` to fail a call for good.

        ``after_processing=True`` carries the request out first and loses only the answer —
        the case an idempotency key exists for: the SDK's retry (same key) gets the first
        result replayed instead of creating a second object.
        """
        if isinstance(exception, type):  # TimeoutError / ConnectionError read naturally too
            exception = "timeout" if issubclass(exception, TimeoutError) else "connection"
        if exception not in (None, "timeout", "connection"):
            raise ValueError("exception must be None, 'timeout' or 'connection'")
        with self._faults_lock:
            self._faults.append(Fault(path_prefix, method.upper() if method else None, status,
                                      exception, times, after_processing))

    def clear_faults(self) -> None:
        with self._faults_lock:
            self._faults.clear()

    def request(self, method: str, url: str, data: dict[str, Any] | str | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """Call the sandbox in-process, e.g. to open an onboarding link in a test."""
        parts = urlsplit(url)
        if isinstance(data, dict):
            data = urlencode(data, doseq=True)
        body = (data or "").encode("utf-8")
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        if body:
            lowered.setdefault("content-type", "application/x-www-form-urlencoded")
        return self.handle(Request(method.upper(), parts.path or "/", parts.query, lowered, body))

    def stripe_client(self, api_key: str = "sk_test_sandbox", **options: Any):
        """A ``stripe.StripeClient`` wired to this sandbox in-process."""
        import stripe

        from .client import SandboxHTTPClient
        return stripe.StripeClient(api_key, base_addresses={"api": self.public_url,
                                                            "files": self.public_url},
                                   http_client=SandboxHTTPClient(self), **options)

    def close(self) -> None:
        self.dispatcher.close()

    # =====================================================================================
    # Webhook plumbing
    # =====================================================================================
    def _event_created(self, event: dict[str, Any]) -> None:
        self._queue_deliveries(event)

    def _queue_deliveries(self, event: dict[str, Any]) -> list[Delivery]:
        is_connect_event = event["_scope"] != PLATFORM
        body = json.dumps(public_view(event), indent=2).encode("utf-8")
        queued = []
        for endpoint in self.store.all("webhook_endpoint", PLATFORM):
            if endpoint.get("_deleted") or endpoint["status"] != "enabled":
                continue
            if endpoint["_connect"] != is_connect_event:
                continue
            wanted = endpoint["enabled_events"]
            if "*" not in wanted and event["type"] not in wanted:
                continue
            queued.append(self.dispatcher.enqueue(
                Delivery(event["id"], event["type"], endpoint["id"], endpoint["url"], body)))
        event["pending_webhooks"] = len(queued)
        return queued

    def _endpoint_for_delivery(self, endpoint_id: str):
        with self.store.lock:
            endpoint = self.store.get(endpoint_id, PLATFORM, "webhook_endpoint")
            if endpoint is None or endpoint.get("_deleted"):
                return None
            transport = self._transports.get(endpoint_id, self._default_transport)
            return endpoint["url"], endpoint["_secret"], transport

    # =====================================================================================
    # Request handling
    # =====================================================================================
    def handle(self, request: Request) -> Response:
        try:
            response = self._dispatch(request)
        except StripeError as error:
            response = json_response(error.body(), error.status)
        except Exception:  # a bug in the sandbox: answer like Stripe's 500, keep serving
            log.exception("stripe_sandbox: unhandled error for %s %s", request.method,
                          request.path)
            response = json_response({"error": {
                "type": "api_error",
                "message": "The Stripe sandbox hit an internal error: "
                           + traceback.format_exc(limit=1).strip().splitlines()[-1]}}, 500)
        response.headers.extend(CORS_HEADERS)
        if not response.header("Request-Id"):
            response.headers.append(("Request-Id", new_id("req", 14)))
        return response

    def _dispatch(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(204)
        content_type = request.header("content-type", "") or ""
        body_text = request.body.decode("utf-8", "replace") if request.body else ""
        if "json" in content_type:
            body_text = ""  # only sandbox routes could want JSON; none do
        if content_type.startswith("multipart/form-data"):  # a file upload (POST /v1/files)
            fields, request.files = parse_multipart(content_type, request.body)
            body_text = urlencode(fields)
        request.params = parse_form(request.query, body_text)
        for name, (filename, content) in request.files.items():
            # Stands for the file in the idempotency fingerprint and the known-parameter check.
            request.params[name] = f"<file {filename!r}, {len(content)} bytes, sha256 " \
                                   f"{hashlib.sha256(content).hexdigest()}>"
        if request.path.startswith("/v1/") or request.path == "/v1":
            return self._api_call(request)
        route, args = self._match(request.method, request.path, self._routes["sandbox"])
        if route is None:
            if any(r.pattern.fullmatch(request.path) for r in self._routes["sandbox"]):
                return json_response(invalid_request("Method not allowed").body(), 405)
            return json_response(self._unrecognized(request).body(), 404)
        request.path_args = args
        return route.handler(request)

    def _unrecognized(self, request: Request) -> StripeError:
        return invalid_request(
            f"Unrecognized request URL ({request.method}: {request.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            status=404)

    def _take_fault(self, request: Request) -> Fault | None:
        with self._faults_lock:
            for fault in self._faults:
                if fault.matches(request):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _authenticate(self, request: Request) -> None:
        authorization = request.header("authorization", "") or ""
        key = ""
        if authorization.lower().startswith("bearer "):
            key = authorization[7:].strip()
        elif authorization.lower().startswith("basic "):
            try:
                key = base64.b64decode(authorization[6:]).decode().split(":", 1)[0]
            except ValueError:
                key = ""
        if not key:
            raise authentication_error(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').")
        # Secret (sk_) and restricted (rk_) keys of the sandbox's mode; a restricted key may do
        # everything here (its per-resource permissions are not modelled), docs/sandbox.md.
        mode = "live" if self.store.livemode else "test"
        if key.startswith((f"sk_{mode}_", f"rk_{mode}_")):
            request.key_kind = "secret"
        elif key.startswith(f"pk_{mode}_"):
            request.key_kind = "publishable"
        else:
            shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
            raise authentication_error(f"Invalid API Key provided: {shown}")
        account = request.header("stripe-account") or PLATFORM
        # The platform naming itself in Stripe-Account is just the platform.
        request.scope = PLATFORM if account == self.store.platform_account_id else account

    def _api_call(self, request: Request) -> Response:
        fault = self._take_fault(request)
        if fault is None:
            return self._api_call_unfaulted(request)
        if fault.after_processing:
            try:
                self._api_call_unfaulted(request)
            except StripeError:
                pass  # the answer, error or not, is what gets lost
        if fault.exception:
            return Response(0, simulate_timeout=True)
        if not fault.after_processing:
            replay = self._replay_under_key(request)
            if replay is not None:
                return replay  # Stripe answers a retried key from its store, 500 or not
        response = json_response({"error": {
            "type": "api_error",
            "message": f"Injected failure (HTTP {fault.status}) from the Stripe sandbox."}},
            fault.status)
        if fault.status >= 500 and not fault.after_processing:
            # The request reached Stripe and failed there: like any answer that began
            # executing, the 500 is what this idempotency key answers from now on.
            self._remember_under_key(request, response)
        return response

    def _replay_under_key(self, request: Request) -> Response | None:
        key = request.header("idempotency-key") if request.method == "POST" else None
        if not key:
            return None
        try:
            self._authenticate(request)
            request.params = request.params or {}
            with self.store.lock:
                return self._idempotent_replay(request, key)
        except StripeError as error:
            return json_response(error.body(), error.status)

    def _remember_under_key(self, request: Request, response: Response) -> None:
        key = request.header("idempotency-key") if request.method == "POST" else None
        if not key:
            return
        try:
            self._authenticate(request)
        except StripeError:
            return
        with self.store.lock:
            self._store_idempotent(request, key, response)
            self.store.save()

    def _api_call_unfaulted(self, request: Request) -> Response:
        self._authenticate(request)
        route, args = self._match(request.method, request.path, self._routes["api"])
        if route is None:
            return self._unmodeled(request)
        if request.key_kind == "publishable" and not route.publishable:
            raise authentication_error(
                "This API call cannot be made with a publishable API key. Please use a secret "
                "API key. You can find a list of your API keys at "
                "https://dashboard.stripe.com/account/apikeys.")
        route.check_params(request.params)
        request.path_args = args
        idempotency_key = request.header("idempotency-key") if request.method == "POST" else None
        request_id = new_id("req", 14)
        with self.store.lock:
            self.api.check_scope(request)
            if idempotency_key:
                replay = self._idempotent_replay(request, idempotency_key)
                if replay is not None:
                    return replay
            # Events caused by this call name it in their "request" field, as Stripe's do.
            self.api.request_context = {"id": request_id, "idempotency_key": idempotency_key}
            try:
                result = route.handler(request)
                # A file's contents are the one answer that is not a JSON object.
                response = result if isinstance(result, Response) else self._json_result(request, result)
            except StripeError as error:
                response = json_response(error.body(), error.status)
            finally:
                self.api.request_context = None
            response.headers.append(("Request-Id", request_id))
            if idempotency_key and _began_executing(response):
                # Like Stripe: the first answer of a request that started executing is kept,
                # whatever it was (a success, a card decline, a 500), so a validation error
                # can be retried with the same key and fixed parameters, and a 500 cannot.
                self._store_idempotent(request, idempotency_key, response)
            if request.method != "GET":
                self.store.save()
        return response

    def _fingerprint(self, request: Request) -> str:
        return json.dumps([request.method, request.path, request.params], sort_keys=True)

    def _store_idempotent(self, request: Request, key: str, response: Response) -> None:
        self.store.idempotency[f"{request.scope} {key}"] = {
            "fingerprint": self._fingerprint(request), "status": response.status,
            "body": response.body.decode("utf-8"), "created": self.now()}

    def _idempotent_replay(self, request: Request, key: str) -> Response | None:
        """The stored answer for ``key`` (https://docs.stripe.com/api/idempotent_requests):
        kept 24 hours, then the key is free again; other parameters are an idempotency_error."""
        record = self.store.idempotency.get(f"{request.scope} {key}")
        if record is not None and self.now() - record.get("created", self.now()) >= IDEMPOTENCY_TTL:
            del self.store.idempotency[f"{request.scope} {key}"]
            record = None
        if record is None:
            return None
        if record["fingerprint"] != self._fingerprint(request):
            raise StripeError(
                400, "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.")
        return Response(record["status"], record["body"].encode("utf-8"),
                        [("Content-Type", "application/json"), ("Idempotent-Replayed", "true"),
                         ("Idempotency-Key", key)])

    def _json_result(self, request: Request, result: dict[str, Any]) -> Response:
        data = self.api.render(result) if "_scope" in result else public_view(result)
        if "livemode" in data:  # objects made per request (a balance) are never stored
            data["livemode"] = self.store.livemode
        expand = as_list(request.params, "expand")
        if expand:
            data = self.api.expand(data, [str(path) for path in expand], request.scope)
        return json_response(data)

    def _unmodeled(self, request: Request) -> Response:
        """GET on a Stripe resource the sandbox does not keep: empty list or unknown id."""
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and len(parts) in (2, 3) and parts[1] in UNMODELED_RESOURCES:
            if len(parts) == 2:
                return json_response({"object": "list", "data": [], "has_more": False,
                                      "url": request.path})
            raise missing_resource(UNMODELED_RESOURCES[parts[1]], parts[2])
        raise self._unrecognized(request)

    @staticmethod
    def _match(method: str, path: str, routes: list[Route]) -> tuple[Route | None, dict]:
        for route in routes:
            if route.method != method:
                continue
            found = route.pattern.fullmatch(path)
            if found:
                return route, found.groupdict()
        return None, {}

    def _build_routes(self) -> dict[str, list[Route]]:
        api = self.api

        def r(method: str, path: str, handler, publishable: bool = False) -> Route:
            pattern = re.compile(re.sub(r":(\w+)", r"(?P<\1>[^/]+)", path))
            return Route(method, pattern, handler, publishable,
                         KNOWN_PARAMS.get(f"{method} {path}"))

        api_routes = [
            r("GET", "/v1/account", api.get_current_account),
            r("POST", "/v1/accounts", api.create_account),
            r("GET", "/v1/accounts", api.list_accounts),
            r("GET", "/v1/accounts/:id", api.retrieve_account),
            r("POST", "/v1/accounts/:id", api.update_account),
            r("DELETE", "/v1/accounts/:id", api.delete_account),
            r("POST", "/v1/accounts/:id/login_links", api.create_login_link),
            r("GET", "/v1/accounts/:id/external_accounts", api.list_external_accounts),
            r("GET", "/v1/accounts/:id/external_accounts/:external_id",
              api.retrieve_external_account),
            r("GET", "/v1/accounts/:id/persons", api.list_persons),
            r("GET", "/v1/accounts/:id/capabilities", api.list_capabilities),
            r("POST", "/v1/account_links", api.create_account_link),
            r("GET", "/v1/balance", api.retrieve_balance),
            r("GET", "/v1/balance_transactions", api.list_balance_transactions),
            r("GET", "/v1/balance_transactions/:id", api.retrieve_balance_transaction),
            r("GET", "/v1/payouts", api.list_payouts),
            r("GET", "/v1/payouts/:id", api.retrieve_payout),
            r("POST", "/v1/payment_methods", api.create_payment_method, publishable=True),
            r("GET", "/v1/payment_methods", api.list_payment_methods),
            r("GET", "/v1/payment_methods/:id", api.retrieve_payment_method),
            r("POST", "/v1/payment_intents", api.create_payment_intent),
            r("GET", "/v1/payment_intents", api.list_payment_intents),
            r("GET", "/v1/payment_intents/:id", api.retrieve_payment_intent, publishable=True),
            r("POST", "/v1/payment_intents/:id", api.update_payment_intent),
            r("POST", "/v1/payment_intents/:id/confirm", api.confirm_payment_intent,
              publishable=True),
            r("POST", "/v1/payment_intents/:id/cancel", api.cancel_payment_intent),
            r("GET", "/v1/charges", api.list_charges),
            r("GET", "/v1/charges/:id", api.retrieve_charge),
            r("GET", "/v1/application_fees", api.list_application_fees),
            r("GET", "/v1/application_fees/:id", api.retrieve_application_fee),
            r("GET", "/v1/application_fees/:id/refunds", api.list_fee_refunds),
            r("POST", "/v1/application_fees/:id/refunds", api.create_fee_refund),
            r("POST", "/v1/refunds", api.create_refund),
            r("GET", "/v1/refunds", api.list_refunds),
            r("GET", "/v1/refunds/:id", api.retrieve_refund),
            r("POST", "/v1/refunds/:id", api.update_refund),
            r("GET", "/v1/disputes", api.list_disputes),
            r("GET", "/v1/disputes/:id", api.retrieve_dispute),
            r("POST", "/v1/disputes/:id", api.update_dispute),
            r("POST", "/v1/disputes/:id/close", api.close_dispute),
            r("POST", "/v1/files", api.create_file),
            r("GET", "/v1/files", api.list_files),
            r("GET", "/v1/files/:id", api.retrieve_file),
            r("GET", "/v1/files/:id/contents", api.file_contents),
            r("GET", "/v1/radar/early_fraud_warnings", api.list_early_fraud_warnings),
            r("GET", "/v1/radar/early_fraud_warnings/:id", api.retrieve_early_fraud_warning),
            r("GET", "/v1/events", api.list_events),
            r("GET", "/v1/events/:id", api.retrieve_event),
            r("POST", "/v1/webhook_endpoints", api.create_webhook_endpoint),
            r("GET", "/v1/webhook_endpoints", api.list_webhook_endpoints),
            r("GET", "/v1/webhook_endpoints/:id", api.retrieve_webhook_endpoint),
            r("POST", "/v1/webhook_endpoints/:id", api.update_webhook_endpoint),
            r("DELETE", "/v1/webhook_endpoints/:id", api.delete_webhook_endpoint),
        ]
        sandbox_routes = [
            r("GET", "/v3/?", self._serve_stripe_js),
            r("GET", "/v3/stripe.js", self._serve_stripe_js),
            r("GET", "/_sandbox/?", self._index),
            r("GET", "/_sandbox/health", lambda req: json_response({"ok": True})),
            r("GET", "/_sandbox/onboarding/:token", self._onboarding_page),
            r("POST", "/_sandbox/onboarding/:token", self._onboarding_submit),
            r("GET", "/_sandbox/3ds/:token", self._three_d_secure_page),
            r("POST", "/_sandbox/3ds/:token", self._three_d_secure_submit),
            r("GET", "/_sandbox/dashboard/:token", self._dashboard_page),
            r("GET", "/_sandbox/demo-checkout", lambda req: html_response(
                pages.demo_checkout_page(req.params, f"{self.public_url}/v3/"))),
            r("POST", "/_sandbox/accounts/:id/requirements", self._route_set_requirements),
            r("POST", "/_sandbox/accounts/:id/onboard", self._route_onboard),
            r("POST", "/_sandbox/accounts/:id/disconnect",
              lambda req: json_response(self.disconnect_account(req.path_args["id"]))),
            r("POST", "/_sandbox/disputes/:id/resolve", self._route_resolve_dispute),
            r("POST", "/_sandbox/refunds/settle", lambda req: json_response(
                {"object": "list", "data": self.settle_refunds()})),
            r("POST", "/_sandbox/refunds/:id/settle", lambda req: json_response(
                {"object": "list", "data": self.settle_refunds(req.path_args["id"])})),
            r("POST", "/_sandbox/charges/:id/dispute", self._route_open_dispute),
            r("POST", "/_sandbox/payment_intents/:id/authenticate", self._route_authenticate),
            r("GET", "/_sandbox/deliveries", lambda req: json_response(
                {"object": "list", "data": self.deliveries})),
            r("POST", "/_sandbox/deliveries/flush", self._route_flush),
            r("GET", "/_sandbox/deliveries/chaos", lambda req: json_response(self.delivery_chaos)),
            r("POST", "/_sandbox/deliveries/chaos", self._route_delivery_chaos),
            r("POST", "/_sandbox/deliveries/:id/redeliver", self._route_redeliver),
            r("POST", "/_sandbox/events/:id/send", self._route_send_event),
            r("POST", "/_sandbox/advance_time", self._route_advance_time),
            r("POST", "/_sandbox/faults", self._route_add_fault),
            r("DELETE", "/_sandbox/faults", self._route_clear_faults),
            r("POST", "/_sandbox/webhook_endpoints", self._route_add_endpoint),
        ]
        return {"api": api_routes, "sandbox": sandbox_routes}

    # =====================================================================================
    # Sandbox-only routes (no API key: they exist for local tests and tools)
    # =====================================================================================
    def _index(self, request: Request) -> Response:
        return json_response({
            "sandbox": "stripe_sandbox", "platform_account": self.platform_account_id,
            "public_url": self.public_url, "stripe_js": f"{self.public_url}/v3/",
        })

    def _serve_stripe_js(self, request: Request) -> Response:
        body = (STATIC_DIR / "stripe.js").read_bytes()
        return Response(200, body, [("Content-Type", "application/javascript; charset=utf-8"),
                                    ("Cache-Control", "no-cache")])

    def _link(self, token: str, kind: str) -> dict[str, Any] | None:
        link = self.store.tokens.get(token)
        return link if link and link["kind"] == kind else None

    @_link_page("account_link")
    def _onboarding_page(self, request: Request, link: dict[str, Any]) -> Response:
        if link["state"] != "new" or self.now() > link["expires_at"]:
            # Stripe sends expired or already-visited links to refresh_url for a new one.
            return redirect(link["refresh_url"])
        link["state"] = "opened"
        self.store.save()
        account = self.api.connected_account(link["account"])
        return html_response(pages.onboarding_page(account, request.path))

    @_link_page("account_link")
    def _onboarding_submit(self, request: Request, link: dict[str, Any]) -> Response:
        if link["state"] == "used" or self.now() > link["expires_at"]:
            return redirect(link["refresh_url"])
        params = request.params
        dob = str(params.get("dob") or "1990-01-01").split("-")
        try:
            dob_tuple = (int(dob[0]), int(dob[1]), int(dob[2]))
        except (ValueError, IndexError):
            dob_tuple = (1990, 1, 1)
        self.api.complete_onboarding(
            link["account"], leave_due=as_bool(params, "leave_due"),
            first_name=params.get("first_name") or "Jenny",
            last_name=params.get("last_name") or "Rosen", dob=dob_tuple,
            routing_number=params.get("routing_number") or "110000000",
            account_number=params.get("account_number") or "000123456789",
            collection_options=link.get("collection_options"))
        link["state"] = "used"
        self.store.save()
        return redirect(link["return_url"])

    @_link_page("three_d_secure")
    def _three_d_secure_page(self, request: Request, link: dict[str, Any]) -> Response:
        pi = self.api.find("payment_intent", link["payment_intent"], link["scope"])
        return html_response(pages.three_d_secure_page(pi, request.path))

    @_link_page("three_d_secure")
    def _three_d_secure_submit(self, request: Request, link: dict[str, Any]) -> Response:
        success = request.params.get("action", "complete") == "complete"
        pi = self.api.authenticate_payment_intent(link["payment_intent"], link["scope"],
                                                  success=success)
        self.store.save()
        return_url = pi.get("_return_url")
        if not return_url:
            return html_response(pages.message_page(
                "Authentication finished",
                f"The payment is now {pi['status']}. You can close this window."))
        return redirect(pages.with_query(return_url, {
            "payment_intent": pi["id"], "payment_intent_client_secret": pi["client_secret"],
            "redirect_status": "succeeded" if success else "failed"}))

    @_link_page("login_link")
    def _dashboard_page(self, request: Request, link: dict[str, Any]) -> Response:
        account = self.api.connected_account(link["account"])
        available, pending = self.api.balance_amounts(account["id"])
        charges = [self.api.render(c) for c in self.store.all("charge", account["id"])]
        return html_response(pages.dashboard_page(account, available, pending, charges))

    def _route_set_requirements(self, request: Request) -> Response:
        params = request.params
        account = self.set_requirements(
            request.path_args["id"],
            past_due=as_list(params, "past_due") or None,
            currently_due=as_list(params, "currently_due") or None,
            eventually_due=as_list(params, "eventually_due") or None,
            disabled_reason=params.get("disabled_reason") or None,
            charges_enabled=as_bool(params, "charges_enabled") if "charges_enabled" in params
            else None,
            payouts_enabled=as_bool(params, "payouts_enabled") if "payouts_enabled" in params
            else None,
            current_deadline=int(params["current_deadline"]) if params.get("current_deadline")
            else None)
        return json_response(account)

    def _route_onboard(self, request: Request) -> Response:
        return json_response(self.complete_onboarding(
            request.path_args["id"], leave_due=as_bool(request.params, "leave_due")))

    def _route_resolve_dispute(self, request: Request) -> Response:
        outcome = request.params.get("outcome")
        if outcome not in DISPUTE_OUTCOMES:
            raise invalid_request(f"outcome must be one of {', '.join(DISPUTE_OUTCOMES)}",
                                  param="outcome")
        return json_response(self.resolve_dispute(request.path_args["id"], outcome))

    def _route_open_dispute(self, request: Request) -> Response:
        return json_response(self.open_dispute(request.path_args["id"],
                                               request.params.get("reason") or "fraudulent",
                                               inquiry=as_bool(request.params, "inquiry")))

    def _route_authenticate(self, request: Request) -> Response:
        success = request.params.get("outcome", "complete") in ("complete", "succeeded", "true")
        return json_response(self.complete_3ds(request.path_args["id"], success=success))

    def _route_flush(self, request: Request) -> Response:
        timeout = float(request.params.get("timeout") or 10)
        drained = self.flush_deliveries(timeout)
        return json_response({"drained": drained, "data": self.deliveries})

    def _route_delivery_chaos(self, request: Request) -> Response:
        params = request.params
        try:
            shares = {name: float(params.get(name) or 0)
                      for name in ("duplicate", "reorder", "delay")}
            seconds = {name: float(params[name]) for name in ("reorder_seconds", "delay_seconds")
                       if params.get(name)}
            seed = int(params["seed"]) if params.get("seed") else None
            return json_response(self.set_delivery_chaos(**shares, **seconds, seed=seed))
        except ValueError as error:
            raise invalid_request(f"Delivery chaos: {error}") from None

    def _route_redeliver(self, request: Request) -> Response:
        try:
            return json_response(self.redeliver(request.path_args["id"]))
        except KeyError:
            raise missing_resource("delivery", request.path_args["id"]) from None

    def _route_send_event(self, request: Request) -> Response:
        try:
            queued = self.send_event(request.path_args["id"])
        except KeyError:
            raise missing_resource("event", request.path_args["id"]) from None
        return json_response({"object": "list", "data": queued})

    def _route_advance_time(self, request: Request) -> Response:
        seconds = float(request.params.get("seconds") or 0)
        return json_response({"now": self.advance_time(seconds)})

    def _route_add_fault(self, request: Request) -> Response:
        params = request.params
        self.fail_next(params.get("path_prefix") or "/v1/",
                       int(params.get("status") or 500),
                       exception=params.get("exception") or None,
                       times=int(params.get("times") or 1), method=params.get("method") or None,
                       after_processing=as_bool(params, "after_processing"))
        return json_response({"ok": True})

    def _route_clear_faults(self, request: Request) -> Response:
        self.clear_faults()
        return json_response({"ok": True})

    def _route_add_endpoint(self, request: Request) -> Response:
        params = request.params
        if not params.get("url"):
            raise invalid_request("Missing required param: url.", param="url")
        return json_response(self.create_webhook_endpoint(
            params["url"], secret=params.get("secret") or None,
            connect=as_bool(params, "connect"),
            enabled_events=as_list(params, "enabled_events") or None))

    # =====================================================================================
    # WSGI
    # =====================================================================================
    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {key[5:].replace("_", "-").lower(): value
                   for key, value in environ.items() if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        response = self.handle(Request(environ["REQUEST_METHOD"].upper(),
                                       environ.get("PATH_INFO") or "/",
                                       environ.get("QUERY_STRING", ""), headers, body))
        if response.simulate_timeout:
            response = json_response({"error": {"type": "api_error",
                                                "message": "Injected timeout"}}, 504)
        reason = {200: "OK", 204: "No Content", 302: "Found", 400: "Bad Request",
                  401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
                  404: "Not Found"}.get(response.status, "Status")
        start_response(f"{response.status} {reason}", response.headers)
        return [response.body]


SandboxApp = Sandbox

__all__ = ["Sandbox", "SandboxApp", "Fault"]
