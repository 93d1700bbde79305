"""The message emails whose batching window has ended (messaging.services), sent every minute
by beat (stubcollector/celery.py)."""

from celery import shared_task

from messaging.services import message_emails_send_due


@shared_task(name="messaging.send_due_message_emails")
def send_due_message_emails() -> int:
    return message_emails_send_due()
