from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Stub Collector core"

    def ready(self):
        # The app's own modules are imported here, not at the top: they load models, which
        # exist only once the app registry is ready (this method).
        # The system checks, and the email task's name in every process.
        from core import checks, tasks  # noqa: F401
        from core.logs import stripe_calls_instrument
        from core.sessions import connect_user_receivers

        stripe_calls_instrument()  # one log line and the metrics per Stripe call
        connect_user_receivers()  # a user's save drops the copy read with their session
