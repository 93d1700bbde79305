"""Stripe-shaped API errors.

Raising :class:`StripeError` anywhere inside a request handler turns into the JSON body and
HTTP status that Stripe itself would send, so stripe-python raises the same exception class
(InvalidRequestError, CardError, AuthenticationError, IdempotencyError, ...).
"""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    def __init__(
        self,
        status: int,
        type: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.code = code
        self.param = param
        self.extra = extra

    def body(self) -> dict:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def invalid_request(message: str, *, param: str | None = None, code: str | None = None,
                    status: int = 400, **extra: Any) -> StripeError:
    return StripeError(status, "invalid_request_error", message, code=code, param=param, **extra)


def missing_resource(kind: str, object_id: str, *, param: str = "id") -> StripeError:
    return invalid_request(f"No such {kind}: '{object_id}'", param=param,
                           code="resource_missing", status=404)


def missing_param(param: str) -> StripeError:
    return invalid_request(f"Missing required param: {param}.", param=param,
                           code="parameter_missing")


def invalid_integer(param: str, value: Any) -> StripeError:
    return invalid_request(f"Invalid integer: {value}", param=param, code="parameter_invalid_integer")


def authentication_error(message: str) -> StripeError:
    return StripeError(401, "invalid_request_error", message)
