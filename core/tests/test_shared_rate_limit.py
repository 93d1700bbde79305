"""Two app processes count one rate limit together through Redis (any number of app hosts can
serve: a limit is not multiplied by the number of processes).

Each process is a separate Python interpreter with its own Django, pointed at the same Redis
(CACHE_URL); the sign-up form allows 5 posts an hour per address. Uses the Redis of the test
run when CACHE_URL names one (CI's PostgreSQL + Redis stage), else starts a throwaway
redis-server; skipped when neither is available.
"""

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from testing.redis_server import redis_server

ROOT = Path(__file__).resolve().parents[2]

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


def post_from_another_process(*, redis_url: str, address: str, times: int, tmp_path) -> list[int]:
    env = {**os.environ, "CACHE_URL": redis_url, "DJANGO_SETTINGS_MODULE": "stubcollector.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}", "DEBUG": "true"}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run([sys.executable, "-c", POSTER, address, str(times)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return [int(status) for status in done.stdout.split()]


def test_two_app_processes_share_one_rate_limit_count_through_redis(redis_url, tmp_path):
    address = f"198.51.100.{random.randint(1, 254)}"  # a fresh count even on a shared Redis

    first = post_from_another_process(redis_url=redis_url, address=address, times=3, tmp_path=tmp_path)
    second = post_from_another_process(redis_url=redis_url, address=address, times=3, tmp_path=tmp_path)

    assert first == [200, 200, 200]
    assert second == [200, 200, 429]  # 5 an hour in all, counted across both processes
