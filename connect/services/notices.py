"""Plain-text notices about a seller's Stripe account, to the seller and to staff.

Queued through core.email after the commit of the change they describe (never for a change that
was rolled back); a mail server failure is retried and logged by the task, never raised into the
webhook that caused it.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from core.email import email_send


def staff_emails() -> list[str]:
    return list(
        User.objects.filter(is_staff=True, is_active=True).exclude(email="").values_list("email", flat=True)
    )


def notice_after_commit(*, subject: str, body: str, to_seller: User | None, to_staff: bool) -> None:
    """Queue one notice for the seller and/or staff, sent once the current transaction commits."""

    def send():
        if to_seller is not None and to_seller.email:
            email_send(to=to_seller.email, subject=subject, body=body)
        if to_staff:
            email_send(to=staff_emails(), subject=f"[staff] {subject}", body=body)

    transaction.on_commit(send)
