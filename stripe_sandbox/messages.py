"""Small request/response types shared by the router, the server and the in-process client."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str                      # upper case
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    # Filled in by the app:
    params: dict[str, Any] = field(default_factory=dict)
    scope: str = "platform"          # "platform" or the acct_ id from Stripe-Account
    key_kind: str = "secret"         # "secret" or "publishable"
    path_args: dict[str, str] = field(default_factory=dict)
    # A multipart body's files: field name -> (filename, bytes) (POST /v1/files).
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # An injected fault asking the transport to behave like a network timeout.
    simulate_timeout: bool = False

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def json_response(data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    body = json.dumps(data, indent=2).encode("utf-8")
    return Response(status, body, [("Content-Type", "application/json")] + list(headers or []))


def html_response(html: str, status: int = 200) -> Response:
    return Response(status, html.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8")])


def redirect(location: str) -> Response:
    return Response(302, b"", [("Location", location)])
