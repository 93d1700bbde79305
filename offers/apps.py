from django.apps import AppConfig


class OffersConfig(AppConfig):
    """Buyers offer a price, sellers accept, decline or counter; an accepted offer is paid through
    the ordinary checkout at the agreed price (docs/architecture.md, "Offers")."""

    name = "offers"

    def ready(self):
        # Imported here, not at the top: they load models, which exist only once the app
        # registry is ready (this method); the tasks module registers the expiry task's name.
        from django.db.models.signals import post_save

        from marketplace.models import Listing
        from offers import tasks  # noqa: F401
        from offers.selectors import agreed_price
        from offers.services import listing_saved, order_status_changed_receiver
        from payments.agreed_prices import agreed_price_register
        from payments.signals import order_status_changed

        # Checkout charges an accepted offer's price, and the payment events honour it.
        agreed_price_register(agreed_price)
        # A listing sold or withdrawn voids its open offers (the buyers are told).
        post_save.connect(listing_saved, sender=Listing, dispatch_uid="offers_listing_saved")
        # The accepted offer's order paid: the offer is paid.
        order_status_changed.connect(order_status_changed_receiver, dispatch_uid="offers_order_paid")
