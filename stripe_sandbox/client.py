"""A stripe-python HTTP client that hands requests straight to a :class:`Sandbox`.

No socket, no port: ``stripe.default_http_client = SandboxHTTPClient(sandbox)`` (or
``stripe.StripeClient(..., http_client=SandboxHTTPClient(sandbox))``) and every SDK call is
answered by the sandbox in the calling thread. An injected timeout (``sandbox.fail_next(...,
exception="timeout")``) raises ``stripe.APIConnectionError`` exactly where a real timeout
would, and the SDK's own retry logic runs as usual (without its sleeps, to keep tests fast).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import stripe

from .messages import Request

if TYPE_CHECKING:
    from .app import Sandbox


class _Headers(dict):
    """Response headers that answer in any letter case, like requests' CaseInsensitiveDict."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        self._lower: dict[str, str] = {}
        for name, value in pairs:
            self[name] = value
            self._lower[name.lower()] = value

    def __getitem__(self, name: str) -> str:
        return self._lower[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower

    def get(self, name: str, default: Any = None) -> Any:
        return self._lower.get(name.lower(), default)


class SandboxHTTPClient(stripe.HTTPClient):
    name = "stripe_sandbox"

    def __init__(self, sandbox: Sandbox, *, retry_sleep: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sandbox = sandbox
        self.retry_sleep = retry_sleep

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return self.retry_sleep

    def _call(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any):
        parts = urlsplit(url)
        if isinstance(post_data, str):
            post_data = post_data.encode("utf-8")
        request = Request(method.upper(), parts.path or "/", parts.query,
                          {k.lower(): v for k, v in (headers or {}).items()}, post_data or b"")
        response = self.sandbox.handle(request)
        if response.simulate_timeout:
            raise stripe.APIConnectionError(
                "Request to Stripe timed out (injected by stripe_sandbox.fail_next).",
                should_retry=True)
        return response

    def request(self, method: str, url: str, headers: Mapping[str, str] | None,
                post_data: Any = None, *, _usage: Any = None):
        response = self._call(method, url, headers, post_data)
        return response.body.decode("utf-8"), response.status, _Headers(response.headers)

    def request_stream(self, method: str, url: str, headers: Mapping[str, str] | None,
                       post_data: Any = None, *, _usage: Any = None):
        response = self._call(method, url, headers, post_data)
        return io.BytesIO(response.body), response.status, _Headers(response.headers)

    def close(self) -> None:
        pass

    async def request_async(self, method: str, url: str, headers: Mapping[str, str],
                            post_data: Any = None):
        response = self._call(method, url, headers, post_data)
        return response.body, response.status, _Headers(response.headers)

    async def request_stream_async(self, method: str, url: str, headers: Mapping[str, str],
                                   post_data: Any = None):
        response = self._call(method, url, headers, post_data)

        async def chunks() -> AsyncIterator[bytes]:
            yield response.body

        return chunks(), response.status, _Headers(response.headers)

    async def close_async(self) -> None:
        pass

    async def sleep_async(self, secs: float) -> None:
        return None
