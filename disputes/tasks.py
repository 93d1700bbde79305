"""Background work of the disputes app (Celery tasks; see stubcollector/celery.py).

Registered under the names they had when they lived in payments.tasks, so the beat schedule and
messages already queued under those names still find them.
"""

from celery import shared_task

from disputes.services import dispute_deadline_reminders_send


@shared_task(name="payments.tasks.send_dispute_reminders")
def send_dispute_reminders() -> int:
    """Beat, hourly: remind sellers of disputes due within 3 days (disputes.services)."""
    return dispute_deadline_reminders_send()
