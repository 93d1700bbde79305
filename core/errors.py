"""Domain errors and the one place they become HTTP answers.

Services raise a DomainError subclass; views never catch them. JSON routes answer
{"error": {"code", "message"}} (DRF handler or DomainErrorMiddleware); HTML routes get
templates/error.html with the same status and message.
"""

from django.http import JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import exception_handler as drf_default_handler


class DomainError(Exception):
    code = "error"
    status = 400
    message = "Something went wrong."

    def __init__(self, message: str | None = None, *, code: str | None = None, status: int | None = None):
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = "Not found."


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    message = "You are not allowed to do that."


class Conflict(DomainError):
    code = "conflict"
    status = 409


class PaymentProviderError(DomainError):
    """Stripe failed or timed out; the user may retry."""

    code = "payment_provider_error"
    status = 502
    message = "Our payment provider did not answer. Please try again in a moment."


def error_payload(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def json_error(code: str, message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse(error_payload(code, message, **extra), status=status)


_DRF_CODES = {
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "not_authenticated",
    drf_exceptions.PermissionDenied: "forbidden",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.ValidationError: "invalid",
    drf_exceptions.ParseError: "invalid_json",
    drf_exceptions.Throttled: "rate_limited",
}


def api_exception_handler(exc, context):
    """DRF errors in the house shape: {"error": {"code", "message", "fields"?}}."""
    if isinstance(exc, DomainError):
        return json_error(exc.code, exc.message, exc.status)
    response = drf_default_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, drf_exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_payload(code, "Some fields are invalid.", fields=detail)
    else:
        response.data = error_payload(code, str(getattr(exc, "detail", exc)))
    return response
