"""core.rate_limit_cache: Django's RedisCache whose rate-limit counters count in the process while
Redis cannot be reached; every other key fails as before (its callers catch the outage)."""

import logging
import os

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from core import cache_health, rate_limit_cache
from testing.redis_server import redis_server

UNREACHABLE = {"default": {"BACKEND": "core.rate_limit_cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
RL_KEY = "rl:3c2d9a"


@pytest.fixture
def redis_down(settings, monkeypatch):
    """Redis refuses connections (nothing listens on port 1); the process's fallback counters,
    its "skip Redis for a while" clock and its once-a-minute warning are this test's own."""
    settings.CACHES = UNREACHABLE
    monkeypatch.setattr(rate_limit_cache, "_redis_skipped_until", 0.0)
    monkeypatch.setattr(cache_health, "_down_logged_at", {})
    rate_limit_cache._local.clear()
    yield caches["default"]
    rate_limit_cache._local.clear()


def test_with_redis_down_rate_limit_counters_count_in_the_process(redis_down):
    assert redis_down.add(RL_KEY, 1, 60) is True
    assert redis_down.add(RL_KEY, 1, 60) is False
    assert redis_down.incr(RL_KEY) == 2
    assert redis_down.incr(RL_KEY) == 3
    assert redis_down.get(RL_KEY) == 3


def test_with_redis_down_other_keys_still_raise_for_their_callers_to_handle(redis_down):
    with pytest.raises(RedisConnectionError):
        redis_down.get("marketplace:catalogue-version")
    with pytest.raises(RedisConnectionError):
        redis_down.add("listing-form-token", 0, 60)


def test_a_count_redis_started_before_it_went_away_goes_on_from_one_not_refused(redis_down):
    """django-ratelimit calls incr after Redis' add said the key was there: a missing local key
    must not read as "failed" (the library would answer 429)."""
    assert redis_down.incr(RL_KEY) == 1
    assert redis_down.incr(RL_KEY) == 2


def test_after_a_failure_redis_is_left_alone_for_a_few_seconds(redis_down, monkeypatch):
    tries = []

    def refused(self, *args, **kwargs):
        tries.append(args[0])
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(DjangoRedisCache, "add", refused)
    monkeypatch.setattr(DjangoRedisCache, "incr", refused)
    redis_down.add(RL_KEY, 1, 60)
    redis_down.incr(RL_KEY)
    redis_down.add("rl:other", 1, 60)
    assert tries == [RL_KEY]

    monkeypatch.setattr(rate_limit_cache, "_redis_skipped_until", 0.0)  # RETRY_SECONDS later
    redis_down.incr(RL_KEY)
    assert tries == [RL_KEY, RL_KEY]


def test_the_outage_is_logged_once_a_minute_not_once_a_request(redis_down, caplog):
    caplog.set_level(logging.WARNING, logger="core.rate_limit_cache")
    redis_down.add(RL_KEY, 1, 60)
    rate_limit_cache._redis_skipped_until = 0.0
    redis_down.add(RL_KEY, 1, 60)

    warnings = [r for r in caplog.records if r.name == "core.rate_limit_cache"]
    assert len(warnings) == 1
    assert "rate limits are counted by each process alone" in warnings[0].getMessage()


def test_a_redis_cache_url_gets_this_backend_which_the_deploy_check_takes_as_shared(fresh_python):
    """settings.py swaps Django's RedisCache for this one whenever CACHE_URL is Redis (a fresh
    process: the settings are read once)."""
    code = ("import django; django.setup(); from django.conf import settings; "
            "from core.checks import rate_limit_cache_is_shared; "
            "print(settings.CACHES['default']['BACKEND'], rate_limit_cache_is_shared(None))")
    env = {**os.environ, "CACHE_URL": "redis://127.0.0.1:1/0",
           "DJANGO_SETTINGS_MODULE": "stubcollector.settings"}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = fresh_python(code, env=env, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout

    assert out.split() == ["core.rate_limit_cache.RedisCache", "[]"]


@pytest.mark.django_db
def test_a_real_redis_stopped_mid_window_leaves_the_sign_up_form_limited_not_failing(settings, redis_down):
    """A redis-server of the test's own counts the first posts; once it is stopped the process
    counts the rest from zero (what Redis counted is out of its reach): 5 an hour still hold."""
    with redis_server() as port:
        settings.CACHES = {"default": {"BACKEND": "core.rate_limit_cache.RedisCache",
                                       "LOCATION": f"redis://127.0.0.1:{port}/0"}}
        client = Client(raise_request_exception=False)
        before = [client.post("/accounts/signup/", {}).status_code for _ in range(2)]
        assert redis.Redis(port=port).keys("*rl:*")  # counted in Redis while it answered

    after = [client.post("/accounts/signup/", {}).status_code for _ in range(6)]

    assert before == [200, 200]
    assert after == [200] * 5 + [429]


def test_the_cache_builds_one_redis_client_per_pool_not_one_per_command(monkeypatch):
    """redis-py's constructor copies its whole table of response callbacks: built once, it is
    used by every later get, set and get_many of the same cache."""
    with redis_server() as port:
        cache = rate_limit_cache.RedisCache(f"redis://127.0.0.1:{port}/0", {})
        built = []
        original = redis.Redis.__init__

        def counting(self, *args, **kwargs):
            built.append(self)
            original(self, *args, **kwargs)

        monkeypatch.setattr(redis.Redis, "__init__", counting)
        cache.set("a", 1)
        cache.set_many({"b": 2, "c": 3})
        assert cache.get("a") == 1 and cache.get_many(["b", "c"]) == {"b": 2, "c": 3}
        assert cache.incr("a") == 2

    assert len(built) == 1
