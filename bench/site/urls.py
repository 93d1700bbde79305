from django.urls import include, path

from bench.site.reference import fortunes

urlpatterns = [
    path("bench/fortunes/", fortunes, name="bench_fortunes"),
    path("", include("stubcollector.urls")),
]
