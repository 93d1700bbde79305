from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Stub Collector core"

    def ready(self):
        from core import checks  # noqa: F401  registers the system checks
        from core.logs import stripe_calls_instrument

        stripe_calls_instrument()  # one log line and the metrics per Stripe call
