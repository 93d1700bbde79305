"""One way to send email: `email_send` renders the house templates (templates/emails/<template>.txt
and .html) or takes a plain-text body, and queues ONE task that sends the message
(core.tasks.email_deliver_task, registered as "core.email_send"). The worker retries while the
mail server fails and logs when it gives up; nothing is raised to the caller, whose change has
already been stored. With no broker the task runs in-process (eager mode), at once.

The message is rendered when it is queued, so the task carries text, not rows, and sends exactly
what the caller saw. Callers queue after their transaction commits (transaction.on_commit), so
nobody is told about a change that was rolled back.
"""

import logging

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from kombu.exceptions import OperationalError

from core.site import SITE_NAME
from core.text import email_subject

logger = logging.getLogger(__name__)

# The task's registered name (core/tasks.py; CoreConfig.ready() imports it in every process).
EMAIL_TASK = "core.email_send"


def email_send(*, to, subject: str, template: str | None = None, context: dict | None = None,
               body: str | None = None, headers: dict | None = None) -> bool:
    """Queue one email to `to` (an address or a list of them; empty ones are left out):
    templates/emails/<template>.txt and .html rendered with `context` (plus site_name), or, with
    no template, `body` as plain text only. `headers` are added as they are (List-Unsubscribe...).
    Returns False when there is nobody to send it to, or when the broker cannot take the task
    (Redis away, after Celery's own publish retries): that email is lost and logged, and the
    caller's change, already committed (a refund already made at Stripe), is not answered 500."""
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [address for address in recipients if address]
    if not recipients:
        return False
    html = None
    if template is not None:
        context = {"site_name": SITE_NAME, **(context or {})}
        body = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    try:
        current_app.tasks[EMAIL_TASK].apply_async(kwargs={
            "to": recipients, "subject": email_subject(subject), "body": body or "", "html": html,
            "headers": headers or {}, "label": template or subject,
        })
    except OperationalError as error:
        logger.error("Email %r to %d recipient(s) not sent: the broker cannot be reached (%s)",
                     template or subject, len(recipients), error,
                     extra={"event": "email.not_queued", "label": template or subject})
        return False
    return True


def email_deliver(*, to: list[str], subject: str, body: str, html: str | None = None,
                  headers: dict | None = None) -> None:
    """Send one rendered message now (the task's side); the mail server's error is raised so the
    task can try again."""
    message = EmailMultiAlternatives(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to, headers=headers or None,
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    message.send()
