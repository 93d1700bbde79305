"""Structured logs: one JSON object per line, with the request id of whatever is running.

- `RequestLogMiddleware` takes the caller's `X-Request-Id` (or makes one), answers with it, and
  writes one `http.request` line per request (method, path, view, status, duration).
- Tasks carry the id of the request that queued them (stubcollector/celery.py).
- `stripe_calls_instrument` writes one `stripe.call` line per HTTP call to Stripe (method,
  path, status, duration, idempotency key, connected account), whoever makes it (our
  stripe_api or dj-stripe's re-fetches), and feeds the Stripe metrics.
- `JsonFormatter` masks anything shaped like a secret key, signing secret, client secret or
  card number in every line, as a last line of defence: nothing should log them anyway.
"""

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import stripe._http_client as http_client

from core import monitoring

_request_id = contextvars.ContextVar("request_id", default="")

# Anything that must never reach a log: API keys, webhook signing secrets, PaymentIntent client
# secrets, full card numbers (13-19 digits, optionally grouped by spaces or dashes). A number
# only on its own: a run of digits inside a longer token of letters and digits is part of an id
# (one request id in fifty, a uuid4's hex, holds 13 digits in a row), not a card number.
SECRET_PATTERNS = [
    re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]+"),
    re.compile(r"\bwhsec_[A-Za-z0-9_]+"),
    re.compile(r"\b(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"),
    re.compile(r"(?<![A-Za-z0-9.])(?:\d[ -]?){12,18}\d(?![A-Za-z0-9.])"),
]
REDACTED = "[redacted]"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def request_id_get() -> str:
    return _request_id.get()


def request_id_set(value: str) -> None:
    _request_id.set(value)


def redact(text: str) -> str:
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = _request_id.get()
        return True


# Attributes every LogRecord has; anything else was passed in `extra=` and goes into the line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or _request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, default=str))


class TextFormatter(logging.Formatter):
    """The development format: readable, but masked like the JSON one."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return redact(super().format(record))


request_logger = logging.getLogger("stubcollector.request")
stripe_logger = logging.getLogger("stubcollector.stripe")


class RequestLogMiddleware:
    """First middleware: a request id for the whole request, one log line and the metrics."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-Id", "")
        request_id = given if VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            took = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            view = match.view_name if match and match.view_name else "unmatched"
            monitoring.REQUEST_LATENCY.labels(view=view, method=request.method).observe(took)
            status = str(response.status_code)
            monitoring.REQUESTS.labels(view=view, method=request.method, status=status).inc()
            response["X-Request-Id"] = request_id
            if not request.path.startswith(("/static/", "/healthz", "/metrics")):
                request_logger.info(
                    "%s %s %s", request.method, request.path, response.status_code,
                    extra={"event": "http.request", "method": request.method, "path": request.path,
                           "view": view, "status": response.status_code,
                           "duration_ms": round(took * 1000, 1)},
                )
            return response
        finally:
            _request_id.reset(token)


# -- Stripe calls --------------------------------------------------------------------------------

def stripe_calls_instrument() -> None:
    """Wrap stripe-python's one HTTP entry point (every client, the sandbox's included)."""
    base = http_client.HTTPClient
    if getattr(base._request_with_retries_internal, "_stubcollector", False):
        return
    original = base._request_with_retries_internal

    def logged(self, method, url, headers, *args, **kwargs):
        started = time.perf_counter()
        status, error = None, ""
        try:
            response = original(self, method, url, headers, *args, **kwargs)
            status = response[1]
            return response
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            took = time.perf_counter() - started
            path = _stripe_path(url)
            monitoring.STRIPE_LATENCY.labels(method=method.upper(), endpoint=path).observe(took)
            if error or (status or 0) >= 400:
                monitoring.STRIPE_ERRORS.labels(
                    method=method.upper(), endpoint=path, status=str(status or error)
                ).inc()
            headers = headers or {}
            stripe_logger.info(
                "Stripe %s %s %s", method.upper(), path, status or error,
                extra={"event": "stripe.call", "method": method.upper(), "path": urlsplit(url).path,
                       "status": status, "error": error, "duration_ms": round(took * 1000, 1),
                       "idempotency_key": headers.get("Idempotency-Key", ""),
                       "stripe_account": headers.get("Stripe-Account", "")},
            )

    logged._stubcollector = True
    base._request_with_retries_internal = logged


# Stripe ids are a short lowercase prefix and mixed-case letters and digits ("pi_3Nx…");
# resource names are lowercase words ("payment_intents").
_ID_SEGMENT = re.compile(r"^[a-z]{1,8}_(?=[A-Za-z0-9_]*[A-Z0-9])[A-Za-z0-9_]+$")


def _stripe_path(url: str) -> str:
    """`/v1/payment_intents/pi_123/confirm` → `/v1/payment_intents/{id}/confirm`: a metric label
    per endpoint, not per object."""
    parts = urlsplit(url).path.split("/")
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in parts)
