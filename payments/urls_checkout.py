"""Checkout and order routes under /payments/ (the DESIGN contract)."""

from django.urls import path

from payments.views import checkout, orders

urlpatterns = [
    path("create-payment-intent/", checkout.create_payment_intent, name="create_payment_intent"),
    path("orders/<int:order_id>/status/", checkout.order_status, name="order_status"),
    path("orders/<int:order_id>/ship/", orders.order_ship_view, name="order_ship"),
    path("orders/<int:order_id>/complete/", orders.order_complete_view, name="order_complete"),
]
