from django.apps import AppConfig


class RatingsConfig(AppConfig):
    """Buyers' feedback on orders, sellers' replies and each seller's reputation."""

    name = "ratings"
