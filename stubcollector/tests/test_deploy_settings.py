"""Production settings: `check --deploy` is clean with production variables, and refuses the
unsafe cases (no SECRET_KEY, a process-local rate-limit cache, a live key sent elsewhere).

Each case starts a fresh `manage.py` process, because settings.py reads the environment once.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables settings.py reads; the test decides each of them, whatever the caller's shell has.
READ_BY_SETTINGS = (
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CACHE_URL", "DATABASE_URL", "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY", "STRIPE_API_HOST", "STRIPE_JS_URL", "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "PYTEST_XDIST_WORKER",
    "STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET", "STRIPE_SANDBOX_URL",
    "DJANGO_SETTINGS_MODULE",
)


REAL_WEBHOOK_SECRETS = {
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "c" * 32,
    "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_" + "d" * 32,
}


def production_env(tmp_path, **overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in READ_BY_SETTINGS}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50)[:50],
        ALLOWED_HOSTS="stubs.example.com",
        CACHE_URL="redis://127.0.0.1:6379/0",  # never contacted: checks only read settings
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_variables(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_off_without_a_secret_key_refuses_to_start(tmp_path):
    result = manage(production_env(tmp_path, SECRET_KEY=None), "check")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_a_weak_secret_key_fails_the_deploy_check(tmp_path):
    env = production_env(tmp_path, SECRET_KEY="short")

    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_a_process_local_rate_limit_cache_fails_the_deploy_check(tmp_path):
    result = manage(production_env(tmp_path, CACHE_URL=None), "check", "--deploy")

    assert result.returncode != 0
    assert "stubcollector.E001" in result.stderr
    # django-ratelimit's own check runs too (the app is installed) and is not silenced here.
    assert "django_ratelimit.E003" in result.stderr


def test_a_live_stripe_key_sent_to_the_sandbox_fails_the_deploy_check(tmp_path):
    env = production_env(
        tmp_path, STRIPE_SECRET_KEY="sk_live_" + "x" * 24, STRIPE_API_HOST="http://127.0.0.1:12111",
        **REAL_WEBHOOK_SECRETS,
    )

    result = manage(env, "check", "--deploy")

    assert result.returncode != 0
    assert "stubcollector.E002" in result.stderr


def test_production_settings_turn_on_https_cookies_hsts_and_hashed_static_files(tmp_path):
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'ssl': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS,"
        "'sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        "'session': s.SESSION_COOKIE_SECURE, 'csrf': s.CSRF_COOKIE_SECURE, 'frame': s.X_FRAME_OPTIONS,"
        "'static': s.STORAGES['staticfiles']['BACKEND'], 'api': s.STRIPE_API_HOST, 'js': s.STRIPE_JS_URL}))"
    )

    env = production_env(tmp_path, STRIPE_SECRET_KEY="sk_test_" + "y" * 24, **REAL_WEBHOOK_SECRETS)
    result = manage(env, "shell", "-c", script)

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["ssl"] and values["session"] and values["csrf"] and values["sub"]
    assert values["hsts"] >= 31536000
    assert values["frame"] == "DENY"
    assert values["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    # Real keys talk to real Stripe unless STRIPE_API_HOST says otherwise.
    assert values["api"] == "https://api.stripe.com"
    assert values["js"] == "https://js.stripe.com/v3/"


def test_check_deploy_reports_nothing_with_live_stripe_keys_and_webhook_secrets(tmp_path):
    env = production_env(
        tmp_path,
        STRIPE_SECRET_KEY="sk_live_" + "a" * 40,
        STRIPE_PUBLISHABLE_KEY="pk_live_" + "b" * 40,
        STRIPE_WEBHOOK_SECRET="whsec_" + "c" * 32,
        STRIPE_CONNECT_WEBHOOK_SECRET="whsec_" + "d" * 32,
    )

    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr


# -- real keys need real webhook secrets, and the release gate can pass ----------------------------

LIVE_KEYS = {"STRIPE_SECRET_KEY": "sk_live_" + "a" * 40, "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "b" * 40}


@pytest.mark.parametrize(
    ("platform", "connect"),
    [
        (None, None),  # nothing set: the sandbox's public defaults
        ("whsec_sandbox_platform", "whsec_" + "d" * 32),
        ("whsec_" + "c" * 32, "whsec_sandbox_connect"),
        ("whsec_" + "c" * 32, ""),
    ],
    ids=["none", "public_platform_secret", "public_connect_secret", "empty_connect_secret"],
)
def test_real_keys_without_both_real_webhook_secrets_refuse_to_start(tmp_path, platform, connect):
    """Not only `check`: any start (gunicorn imports the settings too, and never runs checks)."""
    env = production_env(tmp_path, **LIVE_KEYS, STRIPE_WEBHOOK_SECRET=platform,
                         STRIPE_CONNECT_WEBHOOK_SECRET=connect)

    result = subprocess.run(
        [sys.executable, "-c", "from stubcollector.wsgi import application"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "WEBHOOK_SECRET must be set" in result.stderr


def test_real_keys_with_both_real_webhook_secrets_start(tmp_path):
    env = production_env(tmp_path, **LIVE_KEYS, **REAL_WEBHOOK_SECRETS)

    result = subprocess.run(
        [sys.executable, "-c", "from stubcollector.wsgi import application"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stderr


# -- the mode comes from the key's shape, restricted keys included (core/stripe_keys.py) --

RESTRICTED_LIVE_KEYS = {"STRIPE_SECRET_KEY": "rk_live_" + "a" * 40,
                        "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "b" * 40}


def test_check_deploy_reports_nothing_with_a_restricted_live_key_and_real_webhook_secrets(tmp_path):
    env = production_env(tmp_path, **RESTRICTED_LIVE_KEYS, **REAL_WEBHOOK_SECRETS)

    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    mode = manage(env, "shell", "-c", "from django.conf import settings; print(settings.STRIPE_LIVE_MODE)")

    assert result.returncode == 0, result.stdout + result.stderr
    assert mode.stdout.strip().splitlines()[-1] == "True", mode.stderr


@pytest.mark.parametrize("key", ["pk_live_" + "a" * 40, "sk_prod_" + "a" * 40, "sk_live_tooshort",
                                 '"sk_live_' + "a" * 40 + '"'])
def test_a_stripe_key_of_no_known_shape_refuses_to_start_with_a_clear_message(tmp_path, key):
    env = production_env(tmp_path, STRIPE_SECRET_KEY=key, **REAL_WEBHOOK_SECRETS)

    result = subprocess.run(
        [sys.executable, "-c", "from stubcollector.wsgi import application"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "is not a Stripe secret or restricted key" in result.stderr
    assert key not in result.stderr  # never the whole secret in a log


def test_an_empty_stripe_key_is_the_same_as_none_the_offline_sandbox(tmp_path):
    env = production_env(tmp_path, STRIPE_SECRET_KEY="", DEBUG="true")

    result = manage(env, "shell", "-c", "from django.conf import settings as s; "
                                        "print(s.STRIPE_USES_SANDBOX_BY_DEFAULT, s.STRIPE_LIVE_MODE)")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True False"
