"""/payments/…: JSON and redirect routes. Each area keeps its own url module."""

from django.urls import include, path

app_name = "payments"
urlpatterns = [
    path("", include("payments.urls_connect")),
    path("", include("payments.urls_checkout")),
    path("", include("payments.urls_webhooks")),
]
