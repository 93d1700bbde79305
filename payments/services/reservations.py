"""Lapsed reservations: the checkout a buyer walked away from.

A reservation lapses by itself (the marketplace treats a listing whose `reserved_until` has
passed as free), so nothing here is needed for the listing to be buyable again. What the sweep
(`manage.py release_expired_reservations`, run every minute or so from cron or a scheduler)
tidies up is the rest: the pending order is cancelled, the listing's hold is cleared, and the
PaymentIntent on the seller's account is cancelled so the old payment form cannot be used.
A PaymentIntent Stripe reports as succeeded (or processing) is left alone, and so is its order:
the payment_intent.succeeded webhook decides whether to honour or refund it.
"""

import logging

from django.db import transaction
from django.utils import timezone

from marketplace.services import listing_release
from payments.models import Order, OrderStatus
from payments.services.checkout import payment_intent_cancel_unless_paid
from payments.services.orders import order_transition

logger = logging.getLogger(__name__)

LAPSED_MESSAGE = "Reservation lapsed before the payment was made."


def lapsed_pending_orders(*, now=None):
    now = now or timezone.now()
    return Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, reserved_until__lte=now)


def reservation_expire(*, order_id: int, now=None) -> bool:
    """Cancel one lapsed pending order and its PaymentIntent. True when it was cancelled."""
    now = now or timezone.now()
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.status != OrderStatus.PENDING_PAYMENT:
        return False
    # Stripe first (never under a row lock): once cancelled there, the buyer cannot pay late.
    intent_status = payment_intent_cancel_unless_paid(order=order)
    if intent_status not in ("", "canceled"):
        # Paid or paying (the webhook decides), or Stripe did not answer (the next run retries).
        logger.info("Order %s: PaymentIntent is %s; order left as it is", order.pk, intent_status)
        return False
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        # Re-checked under the lock: the webhook may have marked it paid meanwhile, or the buyer
        # come back and extended the hold (kept, unless its PaymentIntent is now cancelled).
        if order.status != OrderStatus.PENDING_PAYMENT:
            return False
        extended = order.reserved_until is not None and order.reserved_until > now
        if extended and intent_status != "canceled":
            return False
        order_transition(order=order, to=OrderStatus.CANCELLED, message=LAPSED_MESSAGE,
                         data={"payment_intent_status": intent_status, "closed_because": "lapsed"})
        listing_release(listing_id=order.listing_id, buyer=order.buyer)
    return True


def reservations_release_expired(*, now=None) -> int:
    """Cancel every lapsed pending order; returns how many. Running it twice does nothing more."""
    now = now or timezone.now()
    lapsed = lapsed_pending_orders(now=now).order_by("reserved_until")
    order_ids = list(lapsed.values_list("pk", flat=True))
    return sum(1 for order_id in order_ids if reservation_expire(order_id=order_id, now=now))
