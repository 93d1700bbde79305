from django.apps import AppConfig


class DisputesConfig(AppConfig):
    """Card disputes on orders: Stripe's events, the staff desk, evidence and its files."""

    name = "disputes"
