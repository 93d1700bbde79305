from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # The app's own modules are imported here, not at the top: they load models, which
        # exist only once the app registry is ready (this method).
        from payments import stripe_api

        stripe_api.configure()

        from payments.services.webhooks import webhooks_connect_signals

        webhooks_connect_signals()  # our handlers on dj-stripe's webhook signals

        from marketplace.services import stale_checkout_rule_register
        from payments import tasks  # noqa: F401  registers the tasks our services queue by name
        from payments.services.checkout import listing_has_stale_payments, listing_stale_payments_cancel

        # A listing's price, shipping or withdrawal never changes under a checkout that could
        # still take the money: marketplace applies our rule before and under its lock.
        stale_checkout_rule_register(
            name="payments", cancel=listing_stale_payments_cancel, exists=listing_has_stale_payments
        )


        from payments.services.webhooks import webhook_endpoints_sync_secrets

        # Endpoint rows made before they carried the secret (djstripe.W005) are brought in step.
        post_migrate.connect(
            webhook_endpoints_sync_secrets, sender=self, dispatch_uid="payments_webhook_secrets"
        )

        from payments.selectors.sold_prices import sold_prices_changed
        from payments.signals import order_status_changed

        # A sale completed or taken back changes what comparable stubs sold for.
        order_status_changed.connect(sold_prices_changed, dispatch_uid="payments_sold_prices")

        from core.admin_site import admin_todo_register
        from core.monitoring import metrics_collector_register
        from payments.metrics import payments_metrics_collect
        from payments.selectors.staff import staff_todo

        # core knows no app: payments brings its numbers to /metrics and its sections to the
        # staff to-do list on the admin index.
        metrics_collector_register(payments_metrics_collect)
        admin_todo_register(staff_todo)
