"""Pages outside /payments/: checkout, orders, the seller dashboard and the JSON my-orders."""

from django.urls import path

from payments.views import checkout, dashboard, my_orders, orders

app_name = "payments_pages"
urlpatterns = [
    path("dashboard/", dashboard.seller_dashboard, name="dashboard"),
    path("checkout/<int:listing_id>/", checkout.checkout_page, name="checkout"),
    path("orders/", orders.order_list, name="order_list"),
    path("orders/<int:order_id>/", orders.order_detail, name="order_detail"),
    # Under /marketplace/ since the listings API first served it: clients use that path.
    path("marketplace/my-orders/", my_orders.MyOrders.as_view(), name="my_orders"),
]
