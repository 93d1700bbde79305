"""A threaded HTTP server for a :class:`Sandbox` (standard library only).

Binds 127.0.0.1 only. ``SandboxServer(sandbox, port=0).start()`` picks a free port and,
unless the sandbox was given a public URL explicitly, points the sandbox's public URL at it.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .app import Sandbox
from .messages import Request

STOP_POLL_SECONDS = 0.02


class _Handler(BaseHTTPRequestHandler):
    server_version = "stripe-sandbox/1.0"
    protocol_version = "HTTP/1.1"
    sandbox: Sandbox  # set on the subclass made per server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.sandbox.handle(Request(self.command.upper(), parts.path, parts.query,
                                               headers, body))
        if response.simulate_timeout:
            # An injected network failure: hang up without answering, so the client sees a
            # dropped connection (stripe-python raises APIConnectionError).
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_DELETE = do_OPTIONS = do_PUT = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args) -> None:
        if self.server.verbose:  # type: ignore[attr-defined]
            super().log_message(format, *args)


class SandboxServer:
    """Run ``sandbox`` over HTTP on 127.0.0.1:``port`` (0 = a free port) in a thread."""

    def __init__(self, sandbox: Sandbox | None = None, *, port: int = 0,
                 host: str = "127.0.0.1", verbose: bool = False,
                 set_public_url: bool = True) -> None:
        self.app = sandbox or Sandbox()
        handler = type("SandboxHandler", (_Handler,), {"sandbox": self.app})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.httpd.verbose = verbose  # type: ignore[attr-defined]
        self.host, self.port = self.httpd.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        if set_public_url:
            self.app.public_url = self.url
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        # stop() returns once serve_forever next looks at its stop flag: socketserver's default
        # of every 0.5 s made each stop wait up to half a second (tests start one a test).
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="stripe-sandbox",
                                        kwargs={"poll_interval": STOP_POLL_SECONDS}, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.app.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
