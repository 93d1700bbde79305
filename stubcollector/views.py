from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from prometheus_client import CONTENT_TYPE_LATEST

from stubcollector.errors import json_error
from stubcollector.middleware import wants_json
from stubcollector.monitoring import metrics_render, readiness_report


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
    """Ready for traffic: database, cache, broker, migrations, Stripe settings; JSON per check,
    503 naming what failed. A few milliseconds: fine to poll every few seconds."""
    ready, checks = readiness_report()
    failed = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ok" if ready else "unavailable", "failed": failed, "checks": checks}
    return JsonResponse(body, status=200 if ready else 503)


LOOPBACK = {"127.0.0.1", "::1"}


def metrics(request):
    """Prometheus text format. With METRICS_TOKEN set, only `Authorization: Bearer <token>`;
    without one, only from loopback (a scraper on the same host) and never through a proxy: a
    proxy on the same host connects from loopback too, but says whom it forwards for."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not constant_time_compare(given, f"Bearer {token}"):
            return HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
    elif request.META.get("REMOTE_ADDR") not in LOOPBACK or any(
        header in request.headers for header in ("X-Forwarded-For", "X-Real-Ip", "Forwarded")
    ):
        return HttpResponse("metrics are served to loopback only\n", status=403, content_type="text/plain")
    return HttpResponse(metrics_render(), content_type=CONTENT_TYPE_LATEST)
