"""Plain-text notices about a seller's Stripe account, to the seller and to staff.

Sent after the commit of the change they describe (never for a change that was rolled back);
a mail server failure is logged, never raised into the webhook that caused it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from accounts.models import User
from core.text import email_subject

logger = logging.getLogger(__name__)


def staff_emails() -> list[str]:
    return list(
        User.objects.filter(is_staff=True, is_active=True).exclude(email="").values_list("email", flat=True)
    )


def _send(subject: str, body: str, recipients: list[str]) -> None:
    if not recipients:
        return
    try:
        send_mail(email_subject(subject), body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:  # the notice is informative; the state change it reports is already stored
        logger.exception("Could not send %r to %s", subject, recipients)


def notice_after_commit(*, subject: str, body: str, to_seller: User | None, to_staff: bool) -> None:
    """Queue one notice for the seller and/or staff, sent once the current transaction commits."""

    def send():
        if to_seller is not None and to_seller.email:
            _send(subject, body, [to_seller.email])
        if to_staff:
            _send(f"[staff] {subject}", body, staff_emails())

    transaction.on_commit(send)
