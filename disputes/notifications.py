"""Emails to the seller about a dispute on their sale (templates/emails/dispute_*_seller.*).

Sent like every order email (payments.services.notifications.order_email_queue: a task renders
and sends it, retried while the mail server fails). The templates read the dispute from the
order (`order.disputes.first`, the latest), so the message needs only the order's context.
Call these once the transaction that changed the dispute has committed.
"""

from payments.models import Order
from payments.services.notifications import order_email_queue


def _order(dispute) -> Order:
    return Order.objects.select_related("seller", "listing__stub").get(pk=dispute.order_id)


def notify_dispute_opened(*, dispute) -> None:
    """A dispute opened on the seller's sale: what it is, the deadline, and what helps."""
    order = _order(dispute)
    kind = "An inquiry" if dispute.is_inquiry else "A dispute"
    order_email_queue(
        order=order, template="dispute_opened_seller", to_user=order.seller,
        subject=f"{kind} on order #{order.pk} ({order.listing.stub.event_name}): please add your side",
    )


def notify_dispute_closed(*, dispute) -> None:
    """The dispute closed: won (the money stays or comes back) or lost (it went to the buyer)."""
    order = _order(dispute)
    order_email_queue(
        order=order, template="dispute_closed_seller", to_user=order.seller,
        subject=f"The dispute on order #{order.pk} is closed: {dispute.outcome_headline}",
    )


def notify_dispute_reminder(*, dispute) -> None:
    """The deadline is near and the dispute is still unanswered: remind the seller."""
    order = _order(dispute)
    order_email_queue(
        order=order, template="dispute_reminder_seller", to_user=order.seller,
        subject=f"Reminder: the dispute on order #{order.pk} must be answered by "
                f"{dispute.evidence_due_by:%d %B}",
    )
