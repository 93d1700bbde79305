"""Background work queued for after the commit, shared by every app (the Celery app itself is the
project's, stubcollector/celery.py).

A task may be named instead of imported: an app's services queue its tasks by their registered
name, so the tasks module can import the services it wraps without an import cycle. Each app
imports its tasks module from its AppConfig.ready(), so the name is known in every process
(with no broker the task then runs in-process, eager mode).
"""

from celery import Task, current_app
from django.db import transaction


def task_by_name(name: str) -> Task:
    """The registered task called `name`: a KeyError when its app's ready() did not import it,
    rather than a message sent to a broker that eager mode does not have."""
    return current_app.tasks[name]


def enqueue_on_commit(task: Task | str, **kwargs) -> None:
    """Queue `task(**kwargs)` once the current transaction commits (at once outside one).

    A worker never sees a row that is not committed yet, and a rolled-back change queues
    nothing. With no broker the task runs in-process at that point (eager mode).
    """

    def send() -> None:
        found = task_by_name(task) if isinstance(task, str) else task
        found.apply_async(kwargs=kwargs)

    transaction.on_commit(send)
