"""/payments/…: the seller's Stripe account routes of the URL contract (docs/architecture.md,
"URLs"), included under the same prefix as payments' own routes."""

from django.urls import path

from connect import views

app_name = "connect"
urlpatterns = [
    path("connect/onboard/", views.connect_onboard, name="connect_onboard"),
    path("onboard/return/", views.connect_return, name="connect_return"),
    path("onboard/refresh/", views.connect_refresh, name="connect_refresh"),
    path("connect/status/", views.connect_status, name="connect_status"),
    path("connect/balance/", views.connect_balance, name="connect_balance"),
    path("connect/dashboard/", views.connect_express_dashboard, name="connect_express_dashboard"),
]
