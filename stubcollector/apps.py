from django.apps import AppConfig


class StubCollectorConfig(AppConfig):
    name = "stubcollector"
    verbose_name = "Stub Collector"

    def ready(self):
        from stubcollector import checks  # noqa: F401  registers the system checks
