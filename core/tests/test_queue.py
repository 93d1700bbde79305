"""core.queue: tasks queued after the commit; a broker that cannot take one (Redis away) never
fails the request whose change has committed, and the caller chooses whether the task is lost
(logged) or run in the process."""

import logging
from unittest import mock

import pytest
from celery import shared_task
from django.db import transaction
from kombu.exceptions import OperationalError

from core.queue import enqueue_on_commit, enqueue_on_commit_or_run_here

pytestmark = pytest.mark.django_db

ran = []


@shared_task(name="core.tests.test_queue.record")
def record(*, value: str) -> str:
    ran.append(value)
    return value


@shared_task(name="core.tests.test_queue.explode")
def explode(*, value: str) -> str:
    raise RuntimeError(f"task failed on {value}")


@pytest.fixture(autouse=True)
def _own_list():
    ran.clear()


@pytest.fixture
def broker_down():
    refused = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch("celery.app.task.Task.apply_async", side_effect=refused):
        yield


def test_a_task_is_queued_only_once_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue_on_commit(record, value="a")
            assert ran == []
    assert ran == ["a"]


def test_a_rolled_back_change_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValueError):
        with transaction.atomic():
            enqueue_on_commit_or_run_here(record, value="a")
            raise ValueError("rolled back")
    assert ran == []


def test_with_the_broker_down_a_task_is_lost_with_an_error_line_not_raised(
    broker_down, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit("core.tests.test_queue.record", value="lost")

    assert ran == []
    [line] = [r for r in caplog.records if getattr(r, "event", "") == "task.not_queued"]
    assert line.levelname == "ERROR" and line.lost is True
    assert line.task == "core.tests.test_queue.record" and line.task_kwargs == {"value": "lost"}


def test_with_the_broker_down_a_task_that_must_not_be_lost_runs_in_the_process(
    broker_down, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit_or_run_here("core.tests.test_queue.record", value="here")

    assert ran == ["here"]
    [line] = [r for r in caplog.records if getattr(r, "event", "") == "task.not_queued"]
    assert line.lost is False


def test_a_task_run_in_the_process_that_fails_is_logged_not_raised(
    broker_down, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.ERROR, logger="core.queue")
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit_or_run_here(explode, value="x")

    [line] = [r for r in caplog.records if getattr(r, "event", "") == "task.failed_here"]
    assert "task failed on x" in line.getMessage()
