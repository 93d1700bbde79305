"""Helpers the payments views share: JSON bodies and JSON routes' answer to anonymous callers."""

from functools import wraps

from core.errors import DomainError, json_error
from core.json_depth import json_loads_bounded


class BadJSON(DomainError):
    code = "invalid_json"
    status = 400
    message = "The request body must be a JSON object."


def json_object(request, *, invalid: type[DomainError] = BadJSON) -> dict:
    """The body as a JSON object (an empty body is {}); anything else is the 400 `invalid`."""
    try:
        body = json_loads_bounded(request.body or b"{}")
    except ValueError:  # UnicodeDecodeError and JSONTooDeep included
        raise invalid() from None
    if not isinstance(body, dict):
        raise invalid()
    return body


def refuse_anonymous(view):
    """JSON routes: 403 in the house shape instead of a redirect to the login page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return json_error("not_authenticated", "Log in first.", 403)
        return view(request, *args, **kwargs)

    return wrapper
