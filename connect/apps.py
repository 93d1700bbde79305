from django.apps import AppConfig


class ConnectConfig(AppConfig):
    """Sellers' Stripe Connect Express accounts: onboarding, account state, balances and payouts."""

    name = "connect"

    def ready(self):
        # The app's own modules are imported here, not at the top: they load models, which
        # exist only once the app registry is ready (this method).
        # The tasks are queued by name (payments.tasks.<name>): known in every process.
        from connect import tasks  # noqa: F401
        from connect.webhooks import BALANCE_DEBIT_HANDLERS, CONNECT_HANDLERS
        from payments.services.webhooks import webhook_handlers_register

        # Payments' pipeline applies them; payments is installed first, so its own handlers
        # for the same event types run before the balance re-read.
        webhook_handlers_register(CONNECT_HANDLERS)
        webhook_handlers_register(BALANCE_DEBIT_HANDLERS, best_effort=True)

        from connect.webhooks import account_deauthorized_receive
        from payments.signals import stripe_account_deauthorized

        stripe_account_deauthorized.connect(account_deauthorized_receive,
                                            dispatch_uid="connect_account_deauthorized")

        from accounts.signals import seller_became
        from connect.services.onboarding import seller_became_audit

        # Becoming a seller, from the profile or from onboarding, is audited once.
        seller_became.connect(seller_became_audit, dispatch_uid="connect_seller_became_audit")
