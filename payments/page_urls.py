"""Pages outside /payments/: the seller dashboard, checkout and orders."""

from django.urls import include, path

app_name = "payments_pages"
urlpatterns = [
    path("", include("payments.page_urls_connect")),
    path("", include("payments.page_urls_checkout")),
]
