"""Background work queued for after the commit, shared by every app (the Celery app itself is the
project's, stubcollector/celery.py).

A task may be named instead of imported: an app's services queue its tasks by their registered
name, so the tasks module can import the services it wraps without an import cycle. Each app
imports its tasks module from its AppConfig.ready(), so the name is known in every process
(with no broker the task then runs in-process, eager mode).

A broker that cannot take the task (Redis away, after Celery's own publish retries, about a
second) never fails the request whose change has already committed: the buyer's order exists,
so a 500 would hide it from them. What becomes of the task is the caller's choice:
`enqueue_on_commit` logs it as lost (event "task.not_queued", with its name and arguments: a
watcher's email, a photo's sizes); `enqueue_on_commit_or_run_here` runs it in this process
instead, as eager mode would, for the few tasks that must not be lost and are short enough to
run inside a request (cancelling a superseded PaymentIntent at Stripe).
"""

import logging

from celery import Task, current_app
from django.db import transaction
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

# What publishing to a broker that cannot be reached raises: kombu wraps the connection's error
# in its OperationalError; redis-py's and the socket's own are caught too in case one gets through.
BROKER_DOWN = (OperationalError, RedisError, OSError)
logger = logging.getLogger(__name__)


def task_by_name(name: str) -> Task:
    """The registered task called `name`: a KeyError when its app's ready() did not import it,
    rather than a message sent to a broker that eager mode does not have."""
    return current_app.tasks[name]


def _send(task: Task | str, kwargs: dict, *, run_here: bool) -> None:
    found = task_by_name(task) if isinstance(task, str) else task
    try:
        found.apply_async(kwargs=kwargs)
        return
    except BROKER_DOWN as error:
        lost = not run_here
        logger.error(
            "Task %s %s: the broker cannot be reached (%s)", found.name,
            "not queued, lost" if lost else "not queued, run in this process", error,
            extra={"event": "task.not_queued", "task": found.name, "task_kwargs": kwargs, "lost": lost},
        )
    if run_here:
        # apply() runs it here and now (request.is_eager: tasks do not schedule retries then);
        # throw=False keeps its exception in the result: the request that queued it still answers.
        result = found.apply(kwargs=kwargs, throw=False)
        if result.failed():
            logger.error("Task %s run in this process failed: %r", found.name, result.result,
                         extra={"event": "task.failed_here", "task": found.name, "task_kwargs": kwargs})


def enqueue_on_commit(task: Task | str, **kwargs) -> None:
    """Queue `task(**kwargs)` once the current transaction commits (at once outside one).

    A worker never sees a row that is not committed yet, and a rolled-back change queues
    nothing. With no broker the task runs in-process at that point (eager mode). A broker that
    cannot be reached loses the task (logged), rather than failing the committed request.
    """
    transaction.on_commit(lambda: _send(task, kwargs, run_here=False))


def enqueue_on_commit_or_run_here(task: Task | str, **kwargs) -> None:
    """`enqueue_on_commit`, except that a task the broker cannot take runs in this process after
    the commit instead of being lost. Only for short tasks that must happen and are safe in a
    request: no row lock is held by then."""
    transaction.on_commit(lambda: _send(task, kwargs, run_here=True))
