"""Optional Sentry: on with SENTRY_DSN (Django and Celery integrations), off without it.
Each case runs in a fresh process of its own (testing/fresh_process.py): sentry-sdk's
integrations patch Django process-wide."""

import os

PROBE = """
import django
django.setup()
import sentry_sdk
client = sentry_sdk.get_client()
print(client.is_active(), sorted(getattr(client, "integrations", {})))
"""


def probe(fresh_python, **env) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "SENTRY_DSN"}
    environment.update(DJANGO_SETTINGS_MODULE="stubcollector.settings", **env)
    done = fresh_python(PROBE, env=environment)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_sentry_is_off_without_a_dsn(fresh_python):
    assert probe(fresh_python).startswith("False")


def test_sentry_reports_django_and_celery_with_a_dsn(fresh_python):
    out = probe(fresh_python, SENTRY_DSN="https://public@sentry.example.invalid/1")
    assert out.startswith("True")
    assert "'django'" in out and "'celery'" in out
