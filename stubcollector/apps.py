from django.apps import AppConfig


class StubCollectorConfig(AppConfig):
    name = "stubcollector"
    verbose_name = "Stub Collector"

    def ready(self):
        from stubcollector import checks  # noqa: F401  registers the system checks
        from stubcollector.logs import stripe_calls_instrument

        stripe_calls_instrument()  # one log line and the metrics per Stripe call
