from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from stubcollector.errors import json_error
from stubcollector.middleware import wants_json


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
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
