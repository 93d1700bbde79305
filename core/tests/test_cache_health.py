"""core.cache_health: one warning a minute per consequence while the cache cannot be reached."""

import logging

import pytest

from core import cache_health


@pytest.fixture(autouse=True)
def _own_clock(monkeypatch, caplog):
    monkeypatch.setattr(cache_health, "_down_logged_at", {})
    # A Celery worker started earlier in the same process (testing/celery_worker.py) may have
    # reconfigured logging and disabled these loggers: hear them whatever ran before.
    for name in ("core.cache_health", "core.sessions"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
        caplog.set_level(logging.WARNING, logger=name)


def warnings_in(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


def test_an_outage_is_logged_once_a_minute_not_once_a_request(caplog, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(cache_health.time, "monotonic", lambda: clock[0])
    for _ in range(5):
        cache_health.cache_down(OSError("refused"), consequence="pages are served uncached")
    clock[0] += 59
    cache_health.cache_down(OSError("refused"), consequence="pages are served uncached")
    assert warnings_in(caplog) == ["The cache cannot be reached (refused): pages are served uncached"]
    clock[0] += 1
    cache_health.cache_down(OSError("refused"), consequence="pages are served uncached")
    assert len(warnings_in(caplog)) == 2


def test_each_consequence_is_logged_on_its_own_clock_and_logger(caplog):
    sessions_logger = logging.getLogger("core.sessions")
    cache_health.cache_down(OSError("refused"), consequence="pages are served uncached")
    cache_health.cache_down(OSError("refused"), consequence="sessions are read from the database",
                            logger=sessions_logger)
    assert [record.name for record in caplog.records] == ["core.cache_health", "core.sessions"]
    assert "sessions are read from the database" in warnings_in(caplog)[1]
