from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"

    def ready(self):
        from django.db.models.signals import post_save

        from marketplace.models import Listing
        from marketplace.watchlist import listing_saved_hook

        # Watchers hear of a price drop or a new hold whichever path changed the listing.
        post_save.connect(listing_saved_hook, sender=Listing, dispatch_uid="marketplace_watch_listing")
