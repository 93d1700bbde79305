"""core's background work: sending one email (core/email.py). CoreConfig.ready() imports this
module so the task's name is registered in every process."""

import logging

from celery import shared_task

from core.email import EMAIL_TASK, email_deliver

logger = logging.getLogger(__name__)


@shared_task(name=EMAIL_TASK, bind=True, max_retries=5, acks_late=True)
def email_deliver_task(self, *, to: list[str], subject: str, body: str, html: str | None = None,
                       headers: dict | None = None, label: str = "") -> bool:
    """Send one email (one task per message, so a retry never repeats another)."""
    try:
        email_deliver(to=to, subject=subject, body=body, html=html, headers=headers)
        return True
    except Exception as exc:  # the mail server's failure: try again later, never undo the change
        if self.request.retries >= self.max_retries:
            logger.exception("Could not send %s; giving up", label)
            return False
        logger.warning("Could not send %s (try %s)", label, self.request.retries + 1)
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
