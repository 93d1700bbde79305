"""The offers pages and their posts (docs/architecture.md, "Offers" and "URLs")."""

from django.urls import path

from offers import views

app_name = "offers"
urlpatterns = [
    path("offers/", views.offers_view, name="list"),
    path("offers/<int:offer_id>/", views.offer_view, name="detail"),
    path("offers/<int:offer_id>/accept/", views.accept_view, name="accept"),
    path("offers/<int:offer_id>/decline/", views.decline_view, name="decline"),
    path("offers/<int:offer_id>/counter/", views.counter_view, name="counter"),
    path("offers/<int:offer_id>/withdraw/", views.withdraw_view, name="withdraw"),
    path("listings/<int:listing_id>/offer/", views.make_view, name="make"),
]
