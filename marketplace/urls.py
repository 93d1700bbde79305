from django.urls import path

from marketplace import api, views, views_photos, views_watch
from marketplace.page_cache import anonymous_page_cache

app_name = "marketplace"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("listings/new/", views.listing_create_view, name="listing_create"),
    path("listings/<int:pk>/", views.listing_detail, name="listing_detail"),
    path("listings/<int:pk>/edit/", views.listing_edit_view, name="listing_edit"),
    path("listings/<int:pk>/withdraw/", views.listing_withdraw_view, name="listing_withdraw"),
    path("listings/<int:pk>/relist/", views.listing_relist_view, name="listing_relist"),
    path("sellers/<str:username>/", views.seller_profile, name="seller_profile"),
    path("listings/<int:pk>/photos/", views_photos.listing_photos, name="listing_photos"),
    path("listings/<int:pk>/photos/move/", views_photos.listing_photo_move, name="listing_photo_move"),
    path("listings/<int:pk>/photos/delete/", views_photos.listing_photo_delete, name="listing_photo_delete"),
    path("listings/<int:pk>/watch/", views_watch.watch_toggle, name="watch_toggle"),
    path("watching/", views_watch.watching, name="watching"),
    path("saved-searches/", views_watch.saved_searches, name="saved_searches"),
    path("saved-searches/<int:pk>/delete/", views_watch.saved_search_delete_view, name="saved_search_delete"),
    path("unsubscribe/<str:token>/", views_watch.unsubscribe, name="unsubscribe"),
    # Anonymous clients share one cached answer per query string (marketplace/page_cache.py).
    path("api/listings/", anonymous_page_cache(api.ListingList.as_view()), name="api_listing_list"),
    # <str:pk>, not <int:pk>: /api/listings/abc/ gets the house JSON 404, not the HTML page.
    path("api/listings/<str:pk>/", api.ListingDetail.as_view(), name="api_listing_detail"),
    path(
        "marketplace/payment-compatibility/",
        api.PaymentCompatibility.as_view(),
        name="payment_compatibility",
    ),
]
