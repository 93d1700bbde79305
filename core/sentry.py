"""Optional error reports to Sentry: on when SENTRY_DSN is set, off (nothing imported) when not.

Called from settings, so the web processes and the Celery workers both report. No personal
data is sent (send_default_pii off); the Django and Celery integrations add the request or
task to each report.
"""


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0) -> bool:
    if not dsn:
        return False
    # Imported here, not at the top: with no DSN nothing of sentry_sdk is loaded.
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
    )
    return True
