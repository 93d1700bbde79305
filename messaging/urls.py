"""The messages pages and their posts (docs/architecture.md, "Messages" and "URLs")."""

from django.urls import path

from messaging import views

app_name = "messaging"
urlpatterns = [
    path("messages/", views.inbox_view, name="inbox"),
    path("messages/<int:conversation_id>/", views.conversation_view, name="conversation"),
    path("messages/<int:conversation_id>/send/", views.send_view, name="send"),
    path("messages/report/<int:message_id>/", views.report_view, name="report"),
    path("listings/<int:listing_id>/ask/", views.ask_view, name="ask"),
    path("orders/<int:order_id>/messages/", views.order_conversation_view, name="order_conversation"),
]
