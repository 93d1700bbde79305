"""Production settings: `check --deploy` is clean with production variables, and refuses the
unsafe cases (no SECRET_KEY, a process-local rate-limit cache, a live key sent elsewhere).

settings.py reads the environment once, so each case needs a fresh start of the project: a child
forked from testing/fork_server.py (the `fresh_start` fixture), which has imported the heavy
libraries once, instead of one interpreter per case (~1 CPU-second each); every case still reads
settings.py under its own environment and reports its exit code, stdout and stderr.
"""

import json
import os
import secrets
from pathlib import Path
from types import SimpleNamespace

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
LIVE_KEYS = {"STRIPE_SECRET_KEY": "sk_live_" + "a" * 40, "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "b" * 40}
RESTRICTED_LIVE_KEYS = {"STRIPE_SECRET_KEY": "rk_live_" + "a" * 40,
                        "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "b" * 40}


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


def manage(*args: str) -> list[str]:
    return ["manage.py", *args]


WSGI_START = ["-c", "from stubcollector.wsgi import application"]
CHECK_DEPLOY_STRICT = manage("check", "--deploy", "--fail-level", "WARNING")
SETTINGS_SCRIPT = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'ssl': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS,"
    "'sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
    "'session': s.SESSION_COOKIE_SECURE, 'csrf': s.CSRF_COOKIE_SECURE, 'frame': s.X_FRAME_OPTIONS,"
    "'static': s.STORAGES['staticfiles']['BACKEND'], 'api': s.STRIPE_API_HOST, 'js': s.STRIPE_JS_URL}))"
)
WEBHOOK_SECRET_CASES = {  # (platform, connect) webhook secrets beside real keys
    "none": (None, None),  # nothing set: the sandbox's public defaults
    "public_platform_secret": ("whsec_sandbox_platform", "whsec_" + "d" * 32),
    "public_connect_secret": ("whsec_" + "c" * 32, "whsec_sandbox_connect"),
    "empty_connect_secret": ("whsec_" + "c" * 32, ""),
}
UNKNOWN_KEY_SHAPES = ["pk_live_" + "a" * 40, "sk_prod_" + "a" * 40, "sk_live_tooshort",
                      '"sk_live_' + "a" * 40 + '"']


def cases() -> dict:
    """Each case: the overrides of production_env and the command the fresh process runs."""
    found = {
        "production": ({}, CHECK_DEPLOY_STRICT),
        "no_secret_key": ({"SECRET_KEY": None}, manage("check")),
        "weak_secret_key": ({"SECRET_KEY": "short"}, CHECK_DEPLOY_STRICT),
        "process_local_cache": ({"CACHE_URL": None}, manage("check", "--deploy")),
        "live_key_to_sandbox": ({"STRIPE_SECRET_KEY": "sk_live_" + "x" * 24,
                                 "STRIPE_API_HOST": "http://127.0.0.1:12111", **REAL_WEBHOOK_SECRETS},
                                manage("check", "--deploy")),
        "production_settings": ({"STRIPE_SECRET_KEY": "sk_test_" + "y" * 24, **REAL_WEBHOOK_SECRETS},
                                manage("shell", "-c", SETTINGS_SCRIPT)),
        "live_keys_and_secrets": ({**LIVE_KEYS, **REAL_WEBHOOK_SECRETS}, CHECK_DEPLOY_STRICT),
        "live_keys_and_secrets_start": ({**LIVE_KEYS, **REAL_WEBHOOK_SECRETS}, WSGI_START),
        "restricted_key": ({**RESTRICTED_LIVE_KEYS, **REAL_WEBHOOK_SECRETS}, CHECK_DEPLOY_STRICT),
        "restricted_key_mode": ({**RESTRICTED_LIVE_KEYS, **REAL_WEBHOOK_SECRETS},
                                manage("shell", "-c", "from django.conf import settings; "
                                                      "print(settings.STRIPE_LIVE_MODE)")),
        "empty_key": ({"STRIPE_SECRET_KEY": "", "DEBUG": "true"},
                      manage("shell", "-c", "from django.conf import settings as s; "
                                            "print(s.STRIPE_USES_SANDBOX_BY_DEFAULT, s.STRIPE_LIVE_MODE)")),
    }
    for name, (platform, connect) in WEBHOOK_SECRET_CASES.items():
        found[f"webhook_secrets_{name}"] = ({**LIVE_KEYS, "STRIPE_WEBHOOK_SECRET": platform,
                                             "STRIPE_CONNECT_WEBHOOK_SECRET": connect}, WSGI_START)
    for key in UNKNOWN_KEY_SHAPES:
        found[f"unknown_key_{key}"] = ({"STRIPE_SECRET_KEY": key, **REAL_WEBHOOK_SECRETS}, WSGI_START)
    return found


@pytest.fixture(scope="module")
def _deploy_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("deploy")


@pytest.fixture
def started(fresh_start, _deploy_dir):
    """`started[name]`: that case's exit code, stdout and stderr, from a fresh start of the
    project under its environment. Each test starts only its own cases, so `make test`'s xdist
    workers can share this module's tests without one waiting for the other's."""
    table = cases()

    class Started:
        def __getitem__(self, name: str) -> SimpleNamespace:
            overrides, argv = table[name]
            done = fresh_start(argv, env=production_env(_deploy_dir, **overrides), timeout=300)
            return SimpleNamespace(returncode=done.returncode, stdout=done.stdout, stderr=done.stderr)

    return Started()


def test_check_deploy_reports_nothing_with_production_variables(started):
    result = started["production"]

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_off_without_a_secret_key_refuses_to_start(started):
    result = started["no_secret_key"]

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_a_weak_secret_key_fails_the_deploy_check(started):
    result = started["weak_secret_key"]

    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_a_process_local_rate_limit_cache_fails_the_deploy_check(started):
    result = started["process_local_cache"]

    assert result.returncode != 0
    assert "stubcollector.E001" in result.stderr
    # django-ratelimit's own check runs too (the app is installed) and is not silenced here.
    assert "django_ratelimit.E003" in result.stderr


def test_a_live_stripe_key_sent_to_the_sandbox_fails_the_deploy_check(started):
    result = started["live_key_to_sandbox"]

    assert result.returncode != 0
    assert "stubcollector.E002" in result.stderr


def test_production_settings_turn_on_https_cookies_hsts_and_hashed_static_files(started):
    result = started["production_settings"]

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["ssl"] and values["session"] and values["csrf"] and values["sub"]
    assert values["hsts"] >= 31536000
    assert values["frame"] == "DENY"
    assert values["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    # Real keys talk to real Stripe unless STRIPE_API_HOST says otherwise.
    assert values["api"] == "https://api.stripe.com"
    assert values["js"] == "https://js.stripe.com/v3/"


def test_check_deploy_reports_nothing_with_live_stripe_keys_and_webhook_secrets(started):
    result = started["live_keys_and_secrets"]

    assert result.returncode == 0, result.stdout + result.stderr


# -- real keys need real webhook secrets, and the release gate can pass ----------------------------


@pytest.mark.parametrize("case", list(WEBHOOK_SECRET_CASES))
def test_real_keys_without_both_real_webhook_secrets_refuse_to_start(started, case):
    """Not only `check`: any start (gunicorn imports the settings too, and never runs checks)."""
    result = started[f"webhook_secrets_{case}"]

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "WEBHOOK_SECRET must be set" in result.stderr


def test_real_keys_with_both_real_webhook_secrets_start(started):
    result = started["live_keys_and_secrets_start"]

    assert result.returncode == 0, result.stderr


# -- the mode comes from the key's shape, restricted keys included (core/stripe_keys.py) --


def test_check_deploy_reports_nothing_with_a_restricted_live_key_and_real_webhook_secrets(started):
    result = started["restricted_key"]
    mode = started["restricted_key_mode"]

    assert result.returncode == 0, result.stdout + result.stderr
    assert mode.stdout.strip().splitlines()[-1] == "True", mode.stderr


@pytest.mark.parametrize("key", UNKNOWN_KEY_SHAPES)
def test_a_stripe_key_of_no_known_shape_refuses_to_start_with_a_clear_message(started, key):
    result = started[f"unknown_key_{key}"]

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "is not a Stripe secret or restricted key" in result.stderr
    assert key not in result.stderr  # never the whole secret in a log


def test_an_empty_stripe_key_is_the_same_as_none_the_offline_sandbox(started):
    result = started["empty_key"]

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True False"

