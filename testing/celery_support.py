"""A real broker and worker for one test, instead of eager (in-process) tasks.

`worker_app` switches the project's Celery app to kombu's in-memory transport with eager mode
off, so a task waits in the queue until `start_worker(worker_app, …)` (celery.contrib.testing:
a real Worker in a thread of this process) takes it. The worker has its own database
connection: use it in `django_db(transaction=True)` tests. The root conftest loads this module as
a pytest plugin, so every app's tests can take the fixture.
"""

import threading
import time

import pytest

# The project's Celery app (stubcollector/celery.py), reached without importing the project, so
# every app's tests may use these helpers.
from celery import current_app as app
from celery.signals import task_postrun, task_prerun
from celery.utils import timer2
from django.db.utils import OperationalError
from kombu.transport import memory


def _reset_connections():
    # Producers are pooled per broker URL on first use: forget them so the new URL is used.
    app._pool = None
    app.amqp._producer_pool = None


# How long the worker's loop waits for a message before it looks at its stop flag again.
# celery.worker.loops.synloop (the loop of a worker on this transport) waits 2 s, and on the way
# out it runs one more wait after seeing the flag (`try: maybe_shutdown() finally:
# _loop_cycle()`): leaving `start_worker` cost ~4 s of idle wall time per worker, more than the
# tests themselves. A message that arrives still ends the wait at once, as before.
WORKER_WAIT_SECONDS = 0.05


def _sleep_briefly(seconds):
    """The worker's timer thread (celery.utils.timer2, where a retry's countdown waits) sleeps
    until its next entry is due, and its stop waits that sleep out (~0.9 s of idle wall time
    leaving a worker that holds a retry): it sleeps in short steps instead, looking at its
    entries and its stop flag after each, so an entry is still run when it is due."""
    time.sleep(min(seconds, WORKER_WAIT_SECONDS))


def _drain_events_briefly(drain_events):
    def drain(self, connection, timeout=None):
        if timeout is not None and timeout > WORKER_WAIT_SECONDS:  # None: blocking, left alone
            timeout = WORKER_WAIT_SECONDS
        return drain_events(self, connection, timeout=timeout)

    return drain


# Held by the worker thread while it runs a task and by wait_until while it asks its question,
# so a poll never reads the tables the task is writing: on SQLite (one in-memory database in
# shared-cache mode) the task's write that met a poll failed at once with "database table is
# locked" (no busy timeout applies there), and a task that is not retried then never got there
# (the photo task once waited out wait_until's 30 s in a whole run).
_task_running = threading.Lock()


def _task_starts(**_):
    _task_running.acquire()


def _task_ends(**_):
    _task_running.release()


@pytest.fixture
def worker_app(settings, monkeypatch):
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "broker_transport_options")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # kombu's in-memory transport polls its queue once a second by default: the worker then took
    # up to 1 s to see a task and ~2 s more to stop; 10 ms polls cost nothing here.
    app.conf.update(task_always_eager=False, broker_url="memory://localhost/",
                    broker_transport_options={**(saved["broker_transport_options"] or {}),
                                              "polling_interval": 0.01})
    _reset_connections()
    monkeypatch.setattr(memory.Transport, "drain_events",
                        _drain_events_briefly(memory.Transport.drain_events))
    monkeypatch.setattr(timer2, "sleep", _sleep_briefly)
    app.control.purge()  # kombu's memory broker lives as long as the process: start empty
    task_prerun.connect(_task_starts, weak=False)
    task_postrun.connect(_task_ends, weak=False)
    yield app
    task_prerun.disconnect(_task_starts)
    task_postrun.disconnect(_task_ends)
    # Tasks a test queued but its worker never took (the emails after a payment, say) must not
    # run in the next test's worker: test_tasks failed after test_webhook_worker in one process.
    app.control.purge()
    app.conf.update(saved)
    _reset_connections()


def wait_until(predicate, seconds: float = 30.0):
    """Polls until `predicate()` holds (not a timing assertion: a generous bound only, so a
    broken worker fails the test instead of hanging it).

    `predicate` is asked while the worker runs no task (`_task_running`). On SQLite a read that
    still meets the worker's open write transaction (outside a task) fails at once with
    "database table is locked" (SQLITE_LOCKED: no busy timeout applies in shared-cache mode):
    that poll only came too early, so it counts as "not yet"."""
    deadline = time.monotonic() + seconds
    while not _holds(predicate):
        assert time.monotonic() < deadline, "the worker did not get there"
        time.sleep(0.05)


def _holds(predicate) -> bool:
    try:
        with _task_running:
            return bool(predicate())
    except OperationalError as error:
        if "database table is locked" not in str(error):
            raise
        return False
