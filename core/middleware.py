from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http.request import RawPostDataException
from django.shortcuts import render
from django.urls import reverse

from core.errors import DomainError, json_error

# Paths whose every route answers JSON, whoever asks.
JSON_ONLY_PREFIXES = ("/api/", "/marketplace/")
# Mostly JSON routes, but some are browser routes (onboarding, order forms): JSON unless HTML was asked for.
JSON_BY_DEFAULT_PREFIXES = ("/payments/",)
# Error pages for these paths lead back to the seller dashboard rather than the stubs.
DASHBOARD_PREFIXES = ("/payments/connect/", "/payments/onboard/")


def asks_for_json(request) -> bool:
    """The client said so: it accepts JSON or it sent JSON."""
    return (
        "application/json" in request.headers.get("Accept", "")
        or request.content_type == "application/json"
    )


def login_first(view):
    """For pages that JSON clients call too: JSON callers get a 403 in the house shape, browsers
    the log-in page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if asks_for_json(request):
            return json_error("not_authenticated", "Log in first.", 403)
        return redirect_to_login(request.get_full_path())

    return wrapper


def wants_json(request) -> bool:
    """JSON or HTML, by what the client asks for; the path decides only when it states no preference.

    Plain substring checks on purpose: `request.accepts("application/json")` is true for a browser
    (its Accept ends in */*) and for a request with no Accept header at all.
    """
    if asks_for_json(request):
        return True
    if request.path.startswith(JSON_ONLY_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    # Browsers send text/html for navigations and form posts; fetch() and test clients without headers do not.
    return request.path.startswith(JSON_BY_DEFAULT_PREFIXES) and "text/html" not in accept


def _posted_nothing(request) -> bool:
    """An empty form post (a bare button): posting it again loses nothing the user typed."""
    try:
        return not request.POST and not request.FILES
    except RawPostDataException:
        return False


def error_page_context(request, error: DomainError) -> dict:
    """What templates/error.html needs: the error, a way to retry a 5xx, and a way back."""
    retry_url = retry_post_url = None
    if error.status >= 500:
        if request.method in ("GET", "HEAD"):
            retry_url = request.get_full_path()
        elif request.method == "POST" and _posted_nothing(request):
            retry_post_url = request.path
    if request.path.startswith(DASHBOARD_PREFIXES):
        back_url, back_label = reverse("payments_pages:dashboard"), "Back to your dashboard"
    else:
        back_url, back_label = reverse("marketplace:browse"), "Back to the stubs"
    return {
        "message": error.message,
        "code": error.code,
        "status": error.status,
        "retry_url": retry_url,
        "retry_post_url": retry_post_url,
        "back_url": back_url,
        "back_label": back_label,
    }


class DomainErrorMiddleware:
    """Turns a DomainError raised by any view into a 4xx/5xx answer, JSON or HTML."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        if wants_json(request):
            return json_error(exception.code, exception.message, exception.status)
        return render(request, "error.html", error_page_context(request, exception), status=exception.status)
