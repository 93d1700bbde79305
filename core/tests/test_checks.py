"""Our system checks, run in-process against overridden settings."""

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from core.checks import (
    live_stripe_key_goes_to_stripe,
    rate_limit_cache_is_shared,
    webhook_secrets_are_real_with_real_keys,
)

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                     "LOCATION": "redis://127.0.0.1:6379/0"}}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
DATABASE_CACHE = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                              "LOCATION": "cache"}}


def ids(messages) -> set[str]:
    return {m.id for m in messages}


@override_settings(CACHES=LOCMEM, DEBUG=False)
def test_locmem_with_debug_off_is_an_error():
    assert ids(rate_limit_cache_is_shared(None)) == {"stubcollector.E001"}


@override_settings(CACHES=LOCMEM, DEBUG=False, SILENCED_SYSTEM_CHECKS=[])
def test_locmem_with_debug_off_fails_the_full_deploy_check_run():
    found = ids(run_checks(tags=["caches"], include_deployment_checks=True))

    assert "stubcollector.E001" in found
    assert "django_ratelimit.E003" in found


@override_settings(CACHES=REDIS, DEBUG=False)
def test_djangos_redis_cache_passes():
    assert rate_limit_cache_is_shared(None) == []


@override_settings(CACHES=LOCMEM, DEBUG=True)
def test_locmem_is_accepted_for_the_single_development_process():
    assert rate_limit_cache_is_shared(None) == []


@pytest.mark.parametrize("caches", [DUMMY, DATABASE_CACHE])
def test_a_cache_that_does_not_limit_is_an_error_even_in_development(caches):
    with override_settings(CACHES=caches, DEBUG=True):
        assert ids(rate_limit_cache_is_shared(None)) == {"stubcollector.E001"}


def test_the_silenced_checks_are_only_the_replaced_ones(settings):
    """Each silenced id has a replacement of ours that fails in the dangerous case (above)."""
    allowed = {"django_ratelimit.W001", "django_ratelimit.E003", "djstripe.W002"}

    assert set(settings.SILENCED_SYSTEM_CHECKS) <= allowed
    assert "django_ratelimit" in settings.INSTALLED_APPS  # so its checks run at all


LIVE_KEY, RESTRICTED_LIVE_KEY = "sk_live_" + "a" * 24, "rk_live_" + "b" * 24
TEST_KEY, RESTRICTED_TEST_KEY = "sk_test_" + "c" * 24, "rk_test_" + "d" * 24


@pytest.mark.parametrize("key", [LIVE_KEY, RESTRICTED_LIVE_KEY])
def test_a_live_key_aimed_at_another_host_is_an_error(key):
    with override_settings(STRIPE_SECRET_KEY=key, STRIPE_LIVE_MODE=True,
                           STRIPE_API_HOST="http://127.0.0.1:12111"):
        assert ids(live_stripe_key_goes_to_stripe(None)) == {"stubcollector.E002"}


@pytest.mark.parametrize(
    "key, live, host",
    [(LIVE_KEY, True, "https://api.stripe.com"), (RESTRICTED_LIVE_KEY, True, "https://api.stripe.com"),
     ("sk_test_sandbox0000000000000000000000000", False, "http://127.0.0.1:12111"),
     (TEST_KEY, False, "http://127.0.0.1:12111"), (RESTRICTED_TEST_KEY, False, "http://127.0.0.1:12111")],
)
def test_live_keys_to_stripe_and_test_keys_anywhere_pass(key, live, host):
    upload_host = host.replace("https://api.", "https://files.")
    with override_settings(STRIPE_SECRET_KEY=key, STRIPE_LIVE_MODE=live, STRIPE_API_HOST=host,
                           STRIPE_UPLOAD_API_HOST=upload_host):
        assert live_stripe_key_goes_to_stripe(None) == []


def test_a_live_key_whose_file_uploads_go_to_another_host_is_an_error():
    with override_settings(STRIPE_SECRET_KEY=LIVE_KEY, STRIPE_LIVE_MODE=True, STRIPE_API_HOST="https://api.stripe.com",
                           STRIPE_UPLOAD_API_HOST="http://127.0.0.1:12111"):
        [error] = live_stripe_key_goes_to_stripe(None)

    assert error.id == "stubcollector.E002" and "STRIPE_UPLOAD_API_HOST" in error.msg


@pytest.mark.parametrize("key", ["pk_live_" + "a" * 24, "whsec_" + "a" * 24, "sk_live_short", ""])
def test_a_key_of_no_known_shape_is_an_error_naming_the_shapes_expected(key):
    with override_settings(STRIPE_SECRET_KEY=key):
        [error] = live_stripe_key_goes_to_stripe(None)

    assert error.id == "stubcollector.E004"
    assert "expected sk_live_…, rk_live_…, sk_test_… or rk_test_…" in error.msg


def test_a_live_mode_that_is_not_the_keys_is_an_error():
    with override_settings(STRIPE_SECRET_KEY=RESTRICTED_LIVE_KEY, STRIPE_LIVE_MODE=False,
                           STRIPE_API_HOST="https://api.stripe.com"):
        assert ids(live_stripe_key_goes_to_stripe(None)) == {"stubcollector.E004"}


@pytest.mark.parametrize("secret", ["whsec_sandbox_platform", "whsec_sandbox_connect", ""])
def test_real_keys_with_a_public_or_empty_webhook_secret_are_an_error(secret):
    with override_settings(STRIPE_USES_SANDBOX_BY_DEFAULT=False, STRIPE_WEBHOOK_SECRET=secret,
                           STRIPE_CONNECT_WEBHOOK_SECRET="whsec_real_connect_secret"):
        assert ids(webhook_secrets_are_real_with_real_keys(None)) == {"stubcollector.E003"}


def test_real_keys_with_real_webhook_secrets_pass_and_the_sandbox_needs_none():
    with override_settings(STRIPE_USES_SANDBOX_BY_DEFAULT=False, STRIPE_WEBHOOK_SECRET="whsec_real_platform",
                           STRIPE_CONNECT_WEBHOOK_SECRET="whsec_real_connect"):
        assert webhook_secrets_are_real_with_real_keys(None) == []
    with override_settings(STRIPE_USES_SANDBOX_BY_DEFAULT=True):
        assert webhook_secrets_are_real_with_real_keys(None) == []
