from django.apps import AppConfig
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save


class MarketplaceConfig(AppConfig):
    name = "marketplace"

    def ready(self):
        # The app's own modules are imported here, not at the top: they load models, which
        # exist only once the app registry is ready (this method).
        from marketplace import tasks  # noqa: F401  registers the tasks our services queue by name
        from marketplace.models import Listing
        from marketplace.watchlist import listing_saved_hook

        # Watchers hear of a price drop or a new hold whichever path changed the listing.
        post_save.connect(listing_saved_hook, sender=Listing, dispatch_uid="marketplace_watch_listing")
        # A logged-in page's hearts come from the visitor's watched ids, read with their session.
        from core.sessions import read_with_session
        from marketplace.models import Watch
        from marketplace.watchlist import watch_changed, watched_keys

        for signal in (post_save, post_delete):
            signal.connect(watch_changed, sender=Watch,
                           dispatch_uid=f"marketplace_watched_{signal is post_save}")
        read_with_session(watched_keys)

        # Cached anonymous pages are filed under a catalogue version that every change moves on.
        from marketplace import page_cache
        from marketplace.models import Stub, StubPhoto

        for model in (Listing, Stub, StubPhoto):  # a processed photo shows on cached pages
            for signal in (post_save, post_delete):
                signal.connect(page_cache.catalogue_changed, sender=model,
                               dispatch_uid=f"marketplace_page_cache_{model.__name__}_{signal is post_save}")
        post_save.connect(page_cache.seller_changed, sender=get_user_model(),
                          dispatch_uid="marketplace_page_cache_seller")
        # The listing page's shared "More from this seller" learns of a listing put on sale.
        from marketplace.more_from_seller import listing_saved_on_sale

        post_save.connect(listing_saved_on_sale, sender=Listing, dispatch_uid="marketplace_more_from_seller")
