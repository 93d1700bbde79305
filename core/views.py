from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from prometheus_client import CONTENT_TYPE_LATEST

from core.errors import json_error
from core.middleware import wants_json
from core.monitoring import metrics_render, readiness_report


def rate_limited(request, exception=None):
    """django-ratelimit's RATELIMIT_VIEW: a clear 429, JSON or HTML."""
    message = "Too many attempts. Please wait a minute and try again."
    if wants_json(request):
        response = json_error("rate_limited", message, 429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    # Our limits are per minute (log-in, payments) or longer (sign-up): a minute is an honest hint.
    response["Retry-After"] = "60"
    return response


def healthz(request):
    """Alive: the process answers. Touches nothing else (a load balancer restarts on failure)."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Ready for traffic: database, cache, broker, migrations, Stripe settings; 503 naming what
    failed. Anyone may ask which check failed; why (hosts, ports, error text) and how long each
    took only with the operator's access to /metrics. Each check has a short timeout."""
    ready, checks = readiness_report()
    failed = [name for name, result in checks.items() if not result["ok"]]
    if operator_refusal(request) is not None:
        checks = {name: {"ok": result["ok"]} for name, result in checks.items()}
    body = {"status": "ok" if ready else "unavailable", "failed": failed, "checks": checks}
    return JsonResponse(body, status=200 if ready else 503)


LOOPBACK = {"127.0.0.1", "::1"}
# Headers a proxy or CDN adds to name the client it forwards for (X-Forwarded-For, Forwarded,
# X-Original-Forwarded-For, X-Real-IP, X-Client-IP, True-Client-IP, CF-Connecting-IP, ...).
FORWARDED_MARKERS = ("forwarded", "real-ip", "client-ip", "connecting-ip", "originating-ip")


def forwarded_looking(request) -> bool:
    return "Via" in request.headers or any(
        marker in name.lower() for name in request.headers for marker in FORWARDED_MARKERS
    )


def operator_refusal(request) -> HttpResponse | None:
    """None when the request may read /metrics and /readyz's details, else the answer refusing it.

    With METRICS_TOKEN set, only `Authorization: Bearer <token>`. Without one, nothing when
    DEBUG is off (a proxy on the same host connects from loopback too, and no list of its
    headers is ever complete); with DEBUG on, loopback requests that carry no proxy header."""
    token = settings.METRICS_TOKEN
    if token:
        if constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {token}"):
            return None
        return HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
    if not settings.DEBUG:
        return HttpResponse("metrics need METRICS_TOKEN to be set\n", status=403, content_type="text/plain")
    if request.META.get("REMOTE_ADDR") not in LOOPBACK or forwarded_looking(request):
        return HttpResponse("metrics are served to loopback only\n", status=403, content_type="text/plain")
    return None


def metrics(request):
    """Prometheus text format, to the operator only (operator_refusal)."""
    return operator_refusal(request) or HttpResponse(metrics_render(), content_type=CONTENT_TYPE_LATEST)
