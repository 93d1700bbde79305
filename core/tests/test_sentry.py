"""Optional Sentry: on with SENTRY_DSN (Django and Celery integrations), off without it.
Each case runs in its own interpreter: sentry-sdk's integrations patch Django process-wide."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import django
django.setup()
import sentry_sdk
client = sentry_sdk.get_client()
print(client.is_active(), sorted(getattr(client, "integrations", {})))
"""


def probe(**env) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "SENTRY_DSN"}
    environment.update(DJANGO_SETTINGS_MODULE="stubcollector.settings", **env)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_sentry_is_off_without_a_dsn():
    assert probe().startswith("False")


def test_sentry_reports_django_and_celery_with_a_dsn():
    out = probe(SENTRY_DSN="https://public@sentry.example.invalid/1")
    assert out.startswith("True")
    assert "'django'" in out and "'celery'" in out
