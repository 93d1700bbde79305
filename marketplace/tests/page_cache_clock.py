"""A clock for marketplace.page_cache whose waits pass at once: a request waiting for another's
drawing (page_cache.WAIT_SECONDS at most) is tested without sitting through the wait."""

import math
import time
from types import SimpleNamespace

from marketplace import page_cache


def clock_of_waits(monkeypatch, on_wait=None) -> list[float]:
    """page_cache's clock, where each wait moves time on by its length at once and calls
    on_wait; returns the list of the waits' lengths, filled as they happen."""
    waits, start = [], time.monotonic()

    def sleep(seconds):
        waits.append(seconds)
        if on_wait:
            on_wait()

    # The time waited summed exactly (fsum), not step by step: a hundred additions of 0.02 to
    # the machine's uptime can fall short of the deadline by a rounding and add a 101st wait.
    clock = SimpleNamespace(time=time.time, monotonic=lambda: start + math.fsum(waits), sleep=sleep)
    monkeypatch.setattr(page_cache, "time", clock)
    return waits
