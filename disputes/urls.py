"""/payments/…: the seller's side of a dispute in the URL contract (docs/architecture.md, "URLs"),
included under the same prefix as payments' own routes."""

from django.urls import path

from disputes import views

app_name = "disputes"
urlpatterns = [
    path("orders/<int:order_id>/dispute/", views.order_dispute_note_view, name="order_dispute_note"),
    path("orders/<int:order_id>/dispute/files/", views.order_dispute_file_view, name="order_dispute_file"),
]
