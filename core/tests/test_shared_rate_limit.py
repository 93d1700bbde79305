"""Two app processes count one rate limit together through Redis (any number of app hosts can
serve: a limit is not multiplied by the number of processes).

Each process is a separate process with its own Django (testing/fresh_process.py), pointed at the same Redis
(CACHE_URL); the sign-up form allows 5 posts an hour per address. Uses the Redis of the test
run when CACHE_URL names one (CI's PostgreSQL + Redis stage), else starts a throwaway
redis-server; skipped when neither is available.
"""

import os
import random

import pytest

from testing.redis_server import redis_server

POSTER = """
import os, sys, django
django.setup()
from django.test import Client
client = Client(REMOTE_ADDR=sys.argv[1])
print(" ".join(str(client.post("/accounts/signup/", {}).status_code) for _ in range(int(sys.argv[2]))))
"""


@pytest.fixture
def redis_url(tmp_path):
    given = os.environ.get("CACHE_URL", "")
    if given.startswith("redis://"):
        yield given
        return
    with redis_server() as port:
        yield f"redis://127.0.0.1:{port}/0"


def post_from_another_process(fresh_python, *, redis_url: str, address: str, times: int,
                              tmp_path) -> list[int]:
    env = {**os.environ, "CACHE_URL": redis_url, "DJANGO_SETTINGS_MODULE": "stubcollector.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}", "DEBUG": "true"}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = fresh_python(POSTER, address, str(times), env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return [int(status) for status in done.stdout.split()]


def test_two_app_processes_share_one_rate_limit_count_through_redis(redis_url, tmp_path, fresh_python):
    address = f"198.51.100.{random.randint(1, 254)}"  # a fresh count even on a shared Redis

    first = post_from_another_process(fresh_python, redis_url=redis_url, address=address, times=3,
                                      tmp_path=tmp_path)
    second = post_from_another_process(fresh_python, redis_url=redis_url, address=address, times=3,
                                       tmp_path=tmp_path)

    assert first == [200, 200, 200]
    assert second == [200, 200, 429]  # 5 an hour in all, counted across both processes
