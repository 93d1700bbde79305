from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    """Our books against Stripe's: `manage.py reconcile_stripe`, its runs and differences, and
    Finance's page in admin (docs/operations.md, "Reconciliation")."""

    name = "reconciliation"

    def ready(self):
        # Imported here, not at the top: the collector reads models, which exist only once the
        # app registry is ready (this method).
        from core.monitoring import metrics_collector_register
        from reconciliation.metrics import reconciliation_metrics_collect

        metrics_collector_register(reconciliation_metrics_collect)
