"""The seller dashboard page."""

from django.urls import path

from payments.views import dashboard

urlpatterns = [
    path("dashboard/", dashboard.seller_dashboard, name="dashboard"),
]
