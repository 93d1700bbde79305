"""The problem report pages and their posts (docs/architecture.md, "Problem reports" and "URLs")."""

from django.urls import path

from problems import views

app_name = "problems"
urlpatterns = [
    path("orders/<int:order_id>/problem/", views.report_new_view, name="report_new"),
    path("problems/<int:report_id>/", views.report_view, name="report"),
    path("problems/<int:report_id>/reply/", views.reply_view, name="reply"),
    path("problems/<int:report_id>/refund/", views.refund_view, name="refund"),
    path("problems/<int:report_id>/escalate/", views.escalate_view, name="escalate"),
    path("problems/<int:report_id>/close/", views.close_view, name="close"),
    path("problems/<int:report_id>/photos/<int:photo_id>/", views.photo_view, name="photo"),
]
