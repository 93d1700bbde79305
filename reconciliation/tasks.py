"""Background work of the reconciliation app (Celery; the daily beat entry is in
stubcollector/celery.py)."""

from celery import shared_task

from reconciliation.services.run import RunInterrupted, reconciliation_run
from reconciliation.services.window import default_since


@shared_task(name="reconciliation.tasks.reconcile_stripe")
def reconcile_stripe() -> int:
    """Beat, daily: reconcile the last 30 days; returns the number of differences found. An
    interrupted run is left for the next one, which resumes it."""
    try:
        run = reconciliation_run(since=default_since(), started_by="beat")
    except RunInterrupted:
        return -1
    return run.differences.count()
