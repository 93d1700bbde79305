"""Checkout and order pages."""

from django.urls import path

from payments.views import checkout, orders

urlpatterns = [
    path("checkout/<int:listing_id>/", checkout.checkout_page, name="checkout"),
    path("orders/", orders.order_list, name="order_list"),
    path("orders/<int:order_id>/", orders.order_detail, name="order_detail"),
]
