"""/payments/…: the JSON and redirect routes of the URL contract (docs/architecture.md, "URLs").
The buyer's rating and the seller's answer under the same prefix are ratings' (ratings/urls.py)."""

from django.urls import path

from payments.views import checkout, connect, orders, refunds, webhooks

app_name = "payments"
urlpatterns = [
    # Seller onboarding (Connect)
    path("connect/onboard/", connect.connect_onboard, name="connect_onboard"),
    path("onboard/return/", connect.connect_return, name="connect_return"),
    path("onboard/refresh/", connect.connect_refresh, name="connect_refresh"),
    path("connect/status/", connect.connect_status, name="connect_status"),
    path("connect/balance/", connect.connect_balance, name="connect_balance"),
    path("connect/dashboard/", connect.connect_express_dashboard, name="connect_express_dashboard"),
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
