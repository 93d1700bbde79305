"""Signed webhook delivery, the way Stripe does it.

Every event is queued once for each matching endpoint (a *delivery*). A delivery POSTs the
event JSON with ``Content-Type: application/json; charset=utf-8`` and a ``Stripe-Signature``
header ``t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``; an answer outside 2xx, an
exception or a timeout is retried after ``retry_delays`` (short, so tests stay quick) until
``max_attempts`` is reached.

Who runs the attempts is chosen by ``mode``:

* ``"background"`` (the server's default): a worker thread sends them, so an API request
  never waits for a receiver. ``flush(timeout)`` waits until nothing is left to send.
* ``"manual"`` (the pytest fixture's default): nothing is sent until ``flush()`` is called,
  and then every attempt runs in the calling thread. That is what Django tests need: the
  receiving view runs in the test's thread and sees the test's database transaction.
  Deliveries queued while flushing (because the receiver called the API) are sent too.

A *transport* is any callable ``(url, headers, body_bytes) -> status`` where status is an
int, a ``(status, body)`` tuple or a response object with ``status_code`` (Django's test
client returns those). ``http_transport`` is the real network one; ``django_client_transport``
adapts Django's test ``Client`` without importing Django.

*Delivery chaos* (``Dispatcher.set_chaos``, ``POST /_sandbox/deliveries/chaos``) makes the
sandbox deliver the way Stripe says it may, so that a receiver is tested against it: "Webhook
endpoints might occasionally receive the same event more than once" and "Stripe doesn't
guarantee the delivery of events in the order that they're generated"
(https://docs.stripe.com/webhooks, "Handle duplicate events" and "Event ordering"); a
delivery also reaches the endpoint late when Stripe's queue is behind or its first attempts
failed and it retries "with an exponential back off" (same page, "Retry behavior"). A share of
the new deliveries is sent twice (a second delivery of the same event), held back a random
moment so that later ones overtake it, or delayed; each delivery lists what was done to it.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .objects import new_id

Transport = Callable[[str, dict, bytes], Any]


def signature_header(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def http_transport(timeout: float = 5.0) -> Transport:
    """POST over the network with urllib; a timeout or refused connection is a failed attempt."""

    def send(url: str, headers: dict, body: bytes) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    return send


def django_client_transport(client: Any, **extra: Any) -> Transport:
    """Deliver through a Django test ``Client`` (duck-typed; this module never imports Django).

    Only the path and query of the endpoint URL are used. ``extra`` goes to ``client.post``
    (e.g. ``REMOTE_ADDR="3.18.12.63"`` for an IP allowlist).
    """

    def send(url: str, headers: dict, body: bytes) -> Any:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        meta = {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in headers.items()
            if name.lower() != "content-type"
        }
        return client.post(path, data=body, content_type=headers["Content-Type"], **meta, **extra)

    return send


def status_of(result: Any) -> int:
    if isinstance(result, tuple):
        result = result[0]
    result = getattr(result, "status_code", getattr(result, "status", result))
    return int(result)


@dataclass
class Delivery:
    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    body: bytes
    id: str = field(default_factory=lambda: new_id("dlv", 16))
    status: str = "pending"  # pending -> succeeded | failed
    attempts: list[dict[str, Any]] = field(default_factory=list)
    next_attempt_at: float = field(default_factory=time.monotonic)
    redelivery_of: str | None = None
    duplicate_of: str | None = None  # a second delivery of the same event (delivery chaos)
    chaos: list[str] = field(default_factory=list)  # "duplicated", "reordered", "delayed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "object": "sandbox.delivery", "event": self.event_id,
            "event_type": self.event_type, "endpoint": self.endpoint_id, "url": self.url,
            "status": self.status, "attempts": list(self.attempts),
            "redelivery_of": self.redelivery_of, "duplicate_of": self.duplicate_of,
            "chaos": list(self.chaos),
        }


CHAOS_KINDS = ("duplicated", "reordered", "delayed")


@dataclass
class DeliveryChaos:
    """Shares (0 to 1) of new deliveries to send twice, out of order, or late.

    ``duplicate``: a second delivery of the event is queued next to the first one (the
    receiver sees the same event id twice, possibly at once on two hosts). ``reorder``: the
    delivery is held back a random moment up to ``reorder_seconds``, so deliveries queued
    meanwhile are sent before it. ``delay``: it is held back ``delay_seconds``. The three are
    drawn independently; ``seed`` makes the draws repeatable.
    """

    duplicate: float = 0.0
    reorder: float = 0.0
    delay: float = 0.0
    reorder_seconds: float = 2.0
    delay_seconds: float = 15.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("duplicate", "reorder", "delay"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be a share from 0 to 1, not {share}")
        for name in ("reorder_seconds", "delay_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")

    def as_dict(self) -> dict[str, Any]:
        return {"duplicate": self.duplicate, "reorder": self.reorder, "delay": self.delay,
                "reorder_seconds": self.reorder_seconds, "delay_seconds": self.delay_seconds,
                "seed": self.seed}


# endpoint id -> (url, secret, transport) or None when the endpoint is gone.
EndpointLookup = Callable[[str], "tuple[str, str, Transport] | None"]


class Dispatcher:
    def __init__(
        self,
        endpoint_lookup: EndpointLookup,
        *,
        mode: str = "background",
        retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0),
        max_attempts: int = 4,
    ) -> None:
        if mode not in ("background", "manual"):
            raise ValueError("mode must be 'background' or 'manual'")
        self.endpoint_lookup = endpoint_lookup
        self.mode = mode
        self.retry_delays = tuple(retry_delays) or (0.0,)
        self.max_attempts = max_attempts
        self.deliveries: list[Delivery] = []
        self._condition = threading.Condition()
        self._in_flight = 0
        self._closed = False
        self._worker: threading.Thread | None = None
        self.chaos = DeliveryChaos()
        self.chaos_counts: Counter[str] = Counter()
        self._random = random.Random()
        if mode == "background":
            self._worker = threading.Thread(target=self._work, name="stripe-sandbox-webhooks",
                                            daemon=True)
            self._worker.start()

    # -- queueing ------------------------------------------------------------------------
    def set_chaos(self, chaos: DeliveryChaos) -> None:
        """Apply ``chaos`` to the deliveries queued from now on (the counts start again)."""
        with self._condition:
            self.chaos = chaos
            self.chaos_counts = Counter()
            self._random = random.Random(chaos.seed)

    def enqueue(self, delivery: Delivery) -> Delivery:
        with self._condition:
            self.deliveries.append(delivery)
            if delivery.redelivery_of is None and delivery.duplicate_of is None:
                self._apply_chaos(delivery)
            self._condition.notify_all()
        return delivery

    def _apply_chaos(self, delivery: Delivery) -> None:
        """Called with the lock held, for a delivery of a new event (not a redelivery)."""
        chaos, draw = self.chaos, self._random.random
        if chaos.delay and draw() < chaos.delay:
            delivery.next_attempt_at += chaos.delay_seconds
            delivery.chaos.append("delayed")
        if chaos.reorder and draw() < chaos.reorder:
            delivery.next_attempt_at += self._random.uniform(0.0, chaos.reorder_seconds)
            delivery.chaos.append("reordered")
        if chaos.duplicate and draw() < chaos.duplicate:
            copy = Delivery(delivery.event_id, delivery.event_type, delivery.endpoint_id,
                            delivery.url, delivery.body, duplicate_of=delivery.id,
                            next_attempt_at=delivery.next_attempt_at, chaos=["duplicated"])
            self.deliveries.append(copy)
            delivery.chaos.append("duplicated")
        self.chaos_counts.update(delivery.chaos)

    def redeliver(self, delivery_id: str) -> Delivery | None:
        with self._condition:
            original = self.get(delivery_id)
            if original is None:
                return None
            copy = Delivery(original.event_id, original.event_type, original.endpoint_id,
                            original.url, original.body, redelivery_of=original.id)
        return self.enqueue(copy)

    def get(self, delivery_id: str) -> Delivery | None:
        return next((d for d in self.deliveries if d.id == delivery_id), None)

    def pending(self) -> list[Delivery]:
        with self._condition:
            return [d for d in self.deliveries if d.status == "pending"]

    # -- sending -------------------------------------------------------------------------
    def flush(self, timeout: float = 10.0) -> bool:
        """Send (manual mode) or wait for (background mode) every pending delivery.

        Returns True when nothing is left pending, False when ``timeout`` ran out first.
        """
        deadline = time.monotonic() + timeout
        if self.mode == "manual":
            while True:
                with self._condition:
                    due = sorted((d for d in self.deliveries if d.status == "pending"),
                                 key=lambda d: d.next_attempt_at)
                if not due:
                    return True
                delivery = due[0]
                wait = delivery.next_attempt_at - time.monotonic()
                if wait > 0:
                    if time.monotonic() + wait > deadline:
                        return False
                    time.sleep(wait)
                self._attempt(delivery)
                if time.monotonic() > deadline:
                    return not self.pending()
        with self._condition:
            while any(d.status == "pending" for d in self.deliveries) or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=2)

    def _work(self) -> None:
        while True:
            with self._condition:
                if self._closed:
                    return
                pending = [d for d in self.deliveries if d.status == "pending"]
                now = time.monotonic()
                due = min(pending, key=lambda d: d.next_attempt_at, default=None)
                if due is None or due.next_attempt_at > now:
                    wait = None if due is None else due.next_attempt_at - now
                    self._condition.wait(wait)
                    continue
                self._in_flight += 1
            try:
                self._attempt(due)
            finally:
                with self._condition:
                    self._in_flight -= 1
                    self._condition.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        started = time.time()
        record: dict[str, Any] = {"at": int(started), "status": None, "error": None}
        endpoint = self.endpoint_lookup(delivery.endpoint_id)
        if endpoint is None:
            record["error"] = "endpoint deleted"
            succeeded, give_up = False, True
        else:
            url, secret, transport = endpoint
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": signature_header(delivery.body, secret),
            }
            try:
                record["status"] = status_of(transport(url, headers, delivery.body))
            except Exception as error:  # a receiver's failure must never kill the worker
                record["error"] = f"{type(error).__name__}: {error}"
            succeeded = record["status"] is not None and 200 <= record["status"] < 300
            give_up = False
        record["duration_ms"] = int((time.time() - started) * 1000)
        with self._condition:
            delivery.attempts.append(record)
            if succeeded:
                delivery.status = "succeeded"
            elif give_up or len(delivery.attempts) >= self.max_attempts:
                delivery.status = "failed"
            else:
                retry = len(delivery.attempts) - 1
                delay = self.retry_delays[min(retry, len(self.retry_delays) - 1)]
                delivery.next_attempt_at = time.monotonic() + delay
            self._condition.notify_all()
