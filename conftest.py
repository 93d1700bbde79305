"""Project-wide pytest set-up: fast hashing, isolated media, the Stripe sandbox fixtures."""

import pytest

pytest_plugins = ["stripe_sandbox.pytest_plugin"]


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    """The rate limiter counts in the cache: every test starts with a clean slate."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _one_rate_limit_window(monkeypatch):
    """Pin django-ratelimit's clock for the test: its windows are fixed slices of wall time, so a
    test firing N requests could otherwise straddle a boundary, restart the count and never see
    its 429 (seen in CI on a loaded machine). Added by the platform engineer."""
    import time
    from types import SimpleNamespace

    import django_ratelimit.core

    frozen = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: frozen))
