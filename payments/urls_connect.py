"""Seller onboarding routes (/payments/…), the paths DESIGN.md fixes."""

from django.urls import path

from payments.views import connect

urlpatterns = [
    path("connect/onboard/", connect.connect_onboard, name="connect_onboard"),
    path("onboard/return/", connect.connect_return, name="connect_return"),
    path("onboard/refresh/", connect.connect_refresh, name="connect_refresh"),
    path("connect/status/", connect.connect_status, name="connect_status"),
    path("connect/balance/", connect.connect_balance, name="connect_balance"),
    path("connect/dashboard/", connect.connect_express_dashboard, name="connect_express_dashboard"),
]
