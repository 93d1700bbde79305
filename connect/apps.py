from django.apps import AppConfig


class ConnectConfig(AppConfig):
    """Sellers' Stripe Connect Express accounts: onboarding, account state, balances and payouts."""

    name = "connect"
