from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from core.views import healthz, metrics, readyz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("accounts/", include("accounts.urls")),
    path("payments/", include("payments.urls")),
    path("payments/", include("connect.urls")),
    path("payments/", include("ratings.urls")),
    path("payments/", include("disputes.urls")),
    path("", include("messaging.urls")),
    path("", include("problems.urls")),
    path("", include("offers.urls")),
    path("", include("payments.page_urls")),
    path("", include("marketplace.urls")),
]

if (settings.DEBUG or settings.SERVE_MEDIA) and not settings.MEDIA_S3_BUCKET:
    # Uploaded photos on local disk; with S3 (MEDIA_S3_BUCKET) pages link to the bucket instead.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
