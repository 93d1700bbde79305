"""The sandbox's state: every Stripe object, plus the few private records around them.

One re-entrant lock guards everything; the app holds it for the whole of each API request,
which keeps multi-object changes (a charge, its fee, its balance transactions, its events)
atomic. Nothing slow ever runs under the lock: webhook delivery happens on another thread
or in ``flush_deliveries`` after the request is done.

Objects are stored as the JSON dicts Stripe would return. Keys that start with ``_`` are
private bookkeeping (``_scope``: the account that owns the object, ``"platform"`` or an
``acct_``; ``_secret``: a webhook endpoint's signing secret; ...) and are removed before an
object leaves the sandbox.

With a ``path`` the whole state is written as JSON after every change (write to a temporary
file, then rename, so a crash never leaves half a file) and read back on start.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PLATFORM = "platform"


class Clock:
    """Wall-clock time plus an offset that tests can move forward (``advance``)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> int:
        return int(time.time() + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Store:
    def __init__(self, path: str | os.PathLike | None = None, *, reset: bool = False) -> None:
        self.lock = threading.RLock()
        self.path = Path(path) if path else None
        self.clock = Clock()
        self.objects: dict[str, dict[str, Any]] = {}
        # The same objects by kind ("payment_intent", ...), in creation order.
        self._by_kind: dict[str, dict[str, dict[str, Any]]] = {}
        # Idempotency records: "<scope> <key>" -> {"fingerprint", "status", "body"}.
        self.idempotency: dict[str, dict[str, Any]] = {}
        # Secret tokens in sandbox page URLs (account links, login links, 3DS pages).
        self.tokens: dict[str, dict[str, Any]] = {}
        self.platform_account_id: str | None = None
        # Live mode: what live keys see (Sandbox(livemode=True)); every object says which.
        self.livemode = False
        self._sequence = 0
        if self.path and self.path.exists() and not reset:
            self._load()

    # -- objects -------------------------------------------------------------------------
    def add(self, obj: dict[str, Any], scope: str) -> dict[str, Any]:
        with self.lock:
            self._sequence += 1
            obj["_scope"] = scope
            if "livemode" in obj:
                obj["livemode"] = self.livemode
            # Stripe lists newest first; "created" has one-second resolution, so a sequence
            # number keeps objects made in the same second in order.
            obj["_seq"] = self._sequence
            self.objects[obj["id"]] = obj
            self._by_kind.setdefault(obj.get("object", ""), {})[obj["id"]] = obj
            return obj

    def get(self, object_id: str, scope: str | None = None, kind: str | None = None) -> dict | None:
        obj = self.objects.get(object_id)
        if obj is None:
            return None
        if scope is not None and obj["_scope"] != scope:
            return None
        if kind is not None and obj.get("object") != kind:
            return None
        return obj

    def all(self, kind: str, scope: str | None = None) -> Iterator[dict[str, Any]]:
        """Objects of one kind, newest first."""
        of_kind = list(self._by_kind.get(kind, {}).values())
        return (obj for obj in reversed(of_kind) if scope is None or obj["_scope"] == scope)

    # -- persistence ---------------------------------------------------------------------
    def save(self) -> None:
        if not self.path:
            return
        with self.lock:
            snapshot = {
                "version": 1,
                "clock_offset": self.clock.offset,
                "platform_account_id": self.platform_account_id,
                "sequence": self._sequence,
                "objects": self.objects,
                "idempotency": self.idempotency,
                "tokens": self.tokens,
            }
            text = json.dumps(snapshot, separators=(",", ":"))
            # Still under the lock: two threads must not write the temporary file at once.
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(text)
            os.replace(temporary, self.path)

    def _load(self) -> None:
        try:
            snapshot = json.loads(self.path.read_text())
        except ValueError as error:
            raise RuntimeError(f"The sandbox state file {self.path} is not valid JSON ({error}); "
                               "start with --reset to begin again.") from error
        self.clock.offset = snapshot.get("clock_offset", 0.0)
        self.platform_account_id = snapshot.get("platform_account_id")
        self._sequence = snapshot.get("sequence", 0)
        self.objects = snapshot.get("objects", {})
        for obj in sorted(self.objects.values(), key=lambda obj: obj["_seq"]):
            self._by_kind.setdefault(obj.get("object", ""), {})[obj["id"]] = obj
        self.idempotency = snapshot.get("idempotency", {})
        self.tokens = snapshot.get("tokens", {})


def public_view(obj: Any) -> Any:
    """A deep copy of ``obj`` without private ``_`` keys, ready to be sent as JSON."""
    if isinstance(obj, dict):
        return {key: public_view(value) for key, value in obj.items() if not key.startswith("_")}
    if isinstance(obj, list):
        return [public_view(value) for value in obj]
    return obj
