from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from payments import stripe_api

        stripe_api.configure()

        from payments.services.webhooks import webhooks_connect_signals

        webhooks_connect_signals()  # our handlers on dj-stripe's webhook signals
