from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from stubcollector.errors import json_error
from stubcollector.middleware import wants_json


def rate_limited(request, exception=None):
    """django-ratelimit's RATELIMIT_VIEW: a clear 429, JSON or HTML."""
    message = "Too many attempts. Please wait a minute and try again."
    if wants_json(request):
        return json_error("rate_limited", message, 429)
    return render(request, "429.html", {"message": message}, status=429)


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
