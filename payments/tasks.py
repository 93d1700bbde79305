"""Background work of the payments app (Celery tasks; see stubcollector/celery.py).

Each task is a thin shell around a service: it loads rows by id (a message carries ids, never
model instances), retries with back-off where the failure may pass (Stripe or the mail server
down), and logs when it gives up. With no broker configured they run in-process (eager mode):
the retries then follow each other at once. The services queue these tasks by name
(core.queue), so this module imports them and not the other way round; PaymentsConfig.ready()
imports it so the names are registered in every process.
"""

import logging

from celery import shared_task
from django.conf import settings

from core import monitoring
from payments.models import Order
from payments.services import webhooks as webhook_services
from payments.services.checkout import payment_intent_cancel_unless_paid
from payments.services.notifications import order_email_deliver
from payments.services.redelivery import webhooks_redeliver
from payments.services.refunds import refunds_send_unsent
from payments.services.reservations import lapsed_pending_orders
from payments.services.reservations import reservation_expire as reservation_expire_service

logger = logging.getLogger(__name__)
EAGER_WEBHOOK_MAX_RETRIES = 5


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def webhook_process(self, *, trigger_id: int) -> str:
    """Apply one stored Stripe delivery; retry with back-off; after the last try it stays
    marked failed (payments.services.webhooks.FAILED_PREFIX) for a replay."""
    max_retries = settings.WEBHOOK_MAX_RETRIES
    if self.request.is_eager:
        # No broker: the retries follow each other at once, so days of them mean nothing.
        max_retries = min(max_retries, EAGER_WEBHOOK_MAX_RETRIES)
    retries = self.request.retries
    try:
        return webhook_services.webhook_process(
            trigger_id=trigger_id, attempt=retries + 1, final=retries >= max_retries
        )
    except webhook_services.WebhookProcessingFailed as exc:
        if retries >= max_retries:
            logger.error("Stripe delivery (trigger %s) failed %s times; left for a replay",
                         trigger_id, retries + 1)
            return "failed"
        # Read from the module at call time: tests shorten the delay there.
        delay = webhook_services.webhook_retry_delay(retries=retries)
        raise self.retry(exc=exc, countdown=delay, max_retries=max_retries) from exc


@shared_task
def redeliver_lost_webhooks() -> dict:
    """Beat, every minute: apply the stored deliveries whose task was lost (a worker killed,
    Redis restarted empty), at most WEBHOOK_REDELIVER_BATCH a run
    (payments.services.redelivery). A run lost itself is made up by the next one."""
    report = webhooks_redeliver()
    return {"applied": report.applied, "failed": report.failed, "given_up": report.given_up,
            "skipped": report.skipped}


@shared_task(acks_late=True)
def order_email_send(*, template: str, subject: str, user_id: int, order_id: int,
                     refund_id: int | None = None) -> bool:
    """Order emails queued by ids before the email service: rendered and handed to core.email,
    whose task (core.email_send) sends them and retries while the mail server fails. Kept under
    its name for messages already in the queue."""
    return order_email_deliver(template=template, subject=subject, user_id=user_id, order_id=order_id,
                               refund_id=refund_id)


@shared_task(bind=True, max_retries=5, acks_late=True)
def payment_intent_cancel(self, *, order_id: int) -> str:
    """Cancel the PaymentIntent of an order that can no longer be paid (superseded, lapsed, a
    failed attempt), unless it was paid meanwhile; retried while Stripe does not answer."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return ""
    status = payment_intent_cancel_unless_paid(order=order)
    if status == "unknown" and not self.request.is_eager and self.request.retries < self.max_retries:
        raise self.retry(countdown=30 * 2**self.request.retries)
    return status


@shared_task(acks_late=True)
def reservation_expire(*, order_id: int) -> bool:
    """Cancel one lapsed checkout: its PaymentIntent on the seller's account, then the order."""
    released = reservation_expire_service(order_id=order_id)
    if released:
        monitoring.RESERVATIONS_RELEASED.inc()
    return released


@shared_task
def send_unsent_refunds() -> dict:
    """Beat, every five minutes: the refund rows Stripe never answered are sent again, with the
    same checks as Finance's "Send again" (payments.services.refunds.refunds_send_unsent)."""
    return refunds_send_unsent()


@shared_task
def release_expired_reservations() -> int:
    """Beat, every minute: one `reservation_expire` task per lapsed pending order. An order
    whose PaymentIntent Stripe did not cancel this time stays pending and is tried next minute."""
    order_ids = list(lapsed_pending_orders().order_by("reserved_until").values_list("pk", flat=True))
    for order_id in order_ids:
        reservation_expire.apply_async(kwargs={"order_id": order_id})
    return len(order_ids)
