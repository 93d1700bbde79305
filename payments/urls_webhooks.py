"""Stripe webhooks and refunds (/payments/…)."""

from django.urls import path

from payments.views import refunds, webhooks

urlpatterns = [
    path("webhook/", webhooks.platform_webhook, name="webhook"),
    path("webhook/connect/", webhooks.connect_webhook, name="webhook_connect"),
    path("orders/<int:order_id>/refund/", refunds.order_refund_view, name="order_refund"),
]
