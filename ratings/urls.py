"""/payments/…: the buyer's rating and the seller's answer of the URL contract
(docs/architecture.md, "URLs"), included under the same prefix as payments' own routes."""

from django.urls import path

from ratings import views

app_name = "ratings"
urlpatterns = [
    path("orders/<int:order_id>/feedback/", views.feedback_leave_view, name="order_feedback"),
    path("orders/<int:order_id>/feedback/reply/", views.feedback_reply_view, name="order_feedback_reply"),
]
