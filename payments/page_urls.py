"""Pages outside /payments/: checkout, orders and the seller dashboard."""

from django.urls import path

from payments.views import checkout, dashboard, orders

app_name = "payments_pages"
urlpatterns = [
    path("dashboard/", dashboard.seller_dashboard, name="dashboard"),
    path("checkout/<int:listing_id>/", checkout.checkout_page, name="checkout"),
    path("orders/", orders.order_list, name="order_list"),
    path("orders/<int:order_id>/", orders.order_detail, name="order_detail"),
]
