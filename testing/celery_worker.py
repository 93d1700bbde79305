"""pytest plugin: run tests against a real Celery worker on Redis instead of eager tasks.

    CELERY_BROKER_URL=redis://127.0.0.1:PORT/1 CELERY_RESULT_BACKEND=redis://127.0.0.1:PORT/2 \\
        pytest -p testing.celery_worker payments/tests/test_webhook_security.py …

(.ci/run does this for the webhook and checkout tests.) Every message goes through Redis to a
real `celery.worker.WorkController` started once per test process (celery.contrib.testing, in a
thread, so it shares the test database settings), on a queue of its own per pytest-xdist
process. Because the worker has its own database connection, every test runs in a real
transaction (`django_db(transaction=True)`). The tests are written for tasks that finish before
the next line, so a task queued outside the worker (the test's thread, a live server's) is
waited for, with every task it queued in turn; tasks queued inside the worker are only
collected and waited for by that outer wait.
"""

import os
import threading

import pytest

_pending = []
_pending_lock = threading.Lock()
WAIT_SECONDS = 120
_ran = {"tasks": 0}


def _count(sender=None, task=None, **kwargs):
    if task is not None and not task.request.is_eager:
        _ran["tasks"] += 1


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"celery worker on Redis ran {_ran['tasks']} tasks")


def pytest_configure(config):
    if not os.environ.get("CELERY_BROKER_URL") or not os.environ.get("CELERY_RESULT_BACKEND"):
        raise pytest.UsageError("testing.celery_worker needs CELERY_BROKER_URL and "
                                "CELERY_RESULT_BACKEND (Redis)")


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.django_db(transaction=True), append=False)


def _drain(first):
    results = [first]
    while results:
        results.pop(0).get(timeout=WAIT_SECONDS, propagate=False, disable_sync_subtasks=False)
        with _pending_lock:
            results.extend(_pending)
            _pending.clear()


@pytest.fixture(scope="session", autouse=True)
def _celery_worker_on_redis(django_db_setup, django_db_blocker):
    from celery.app.task import Task
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from stubcollector.celery import app

    assert not settings.CELERY_TASK_ALWAYS_EAGER, "CELERY_BROKER_URL is set: tasks must go to Redis"
    queue = f"tests-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    app.conf.update(task_default_queue=queue, task_ignore_result=False,
                    result_backend=os.environ["CELERY_RESULT_BACKEND"])
    original = Task.apply_async

    def apply_async(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        running = app.current_worker_task
        if running is None or running.request.is_eager:  # the test's thread, or the live server's
            _drain(result)
        else:  # inside the worker: the outer wait collects it
            with _pending_lock:
                _pending.append(result)
        return result

    Task.apply_async = apply_async
    from celery import signals

    signals.task_prerun.connect(_count, weak=False)
    with django_db_blocker.unblock():
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue],
                          shutdown_timeout=30, loglevel="WARNING"):
            yield
    Task.apply_async = original


@pytest.fixture(autouse=True)
def _no_retry_delays(monkeypatch):
    """A worker's retry waits 30 s and more in production; the tests have no such patience."""
    monkeypatch.setattr("payments.services.webhooks.webhook_retry_delay", lambda *, retries: 0)
