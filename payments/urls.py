"""/payments/…: the JSON and redirect routes of the URL contract (docs/architecture.md, "URLs").
The seller's Stripe account routes under the same prefix are Connect's (connect/urls.py), the
buyer's rating and the seller's answer are ratings' (ratings/urls.py)."""

from django.urls import path

from payments.views import checkout, orders, refunds, webhooks

app_name = "payments"
urlpatterns = [
    # Checkout and orders
    path("create-payment-intent/", checkout.create_payment_intent, name="create_payment_intent"),
    path("orders/<int:order_id>/status/", checkout.order_status, name="order_status"),
    path("orders/<int:order_id>/ship/", orders.order_ship_view, name="order_ship"),
    path("orders/<int:order_id>/complete/", orders.order_complete_view, name="order_complete"),
    path("orders/<int:order_id>/refund/", refunds.order_refund_view, name="order_refund"),
    path("orders/<int:order_id>/relist/", orders.order_relist_view, name="order_relist"),
    # Signed Stripe webhooks
    path("webhook/", webhooks.platform_webhook, name="webhook"),
    path("webhook/connect/", webhooks.connect_webhook, name="webhook_connect"),
]
