"""Emails about orders: plain text plus a simple HTML part, from templates/emails/.

Django's mail (console backend by default, `EMAIL_URL` in production). Call these after the
transaction that changed the order has committed (`transaction.on_commit`), so nobody is told
about a change that was rolled back. Each message is rendered here and sent by one task of the
email service (core.email): a mail server failure is retried by the worker and logged, never
raised here: the order has already moved, and a webhook must not be retried (and re-applied)
because of an email.
"""

import logging

from django.urls import reverse

from accounts.models import User
from core.countries import COUNTRY_NAMES
from core.email import email_send
from core.site import SITE_NAME, absolute_url
from marketplace.pricing import format_usd as dollars
from payments.models import Order
from payments.staff import FINANCE

logger = logging.getLogger(__name__)


def _order_context(order: Order) -> dict:
    listing = order.listing
    order_url = absolute_url(reverse("payments_pages:order_detail", args=[order.pk]))
    return {
        "order": order,
        "stub": listing.stub,
        "buyer": order.buyer,
        "seller": order.seller,
        "amount": dollars(order.amount_cents),
        "fee": dollars(order.application_fee_cents),
        "seller_receives": dollars(order.seller_receives_cents),
        "order_url": order_url,
        "ship_url": f"{order_url}#ship",
        "orders_url": absolute_url(reverse("payments_pages:order_list")),
        "site_name": SITE_NAME,
        "shipping_lines": shipping_lines(order),
        "price_lines": price_lines(order),
    }


def price_lines(order: Order) -> list[tuple[str, str]]:
    """Price, shipping and total as the checkout page showed them to the buyer
    (templates/payments/checkout.html): the same words, "Free" for no shipping."""
    return [
        ("Price", dollars(order.amount_cents - order.shipping_cents)),
        ("Shipping", dollars(order.shipping_cents) if order.shipping_cents else "Free"),
        ("Total", dollars(order.amount_cents)),
    ]


def shipping_lines(order: Order) -> list[str]:
    """The address as it goes on a parcel, one line each, empty parts left out."""
    city_parts = (order.shipping_city, order.shipping_state, order.shipping_postal_code)
    city_line = " ".join(part for part in city_parts if part)
    lines = [
        order.shipping_name, order.shipping_line1, order.shipping_line2, city_line,
        COUNTRY_NAMES.get(order.shipping_country, order.shipping_country),
    ]
    return [line for line in lines if line]


def _send(*, template: str, subject: str, to_user, context: dict, refund=None) -> bool:
    """Queue templates/emails/<template>.txt and .html for one user, rendered with the order's
    context (core.email: one task sends it, retried while the mail server fails)."""
    if not to_user.email:
        logger.info("No email address for user %s; %s not sent", to_user.pk, template)
        return False
    order = _load(context["order"])
    email_context = {**_order_context(order), "recipient": to_user}
    if refund is not None:
        email_context["refund"] = order.refunds.get(pk=refund.pk)
    return email_send(to=to_user.email, subject=subject, template=template, context=email_context)


def order_email_deliver(*, template: str, subject: str, user_id: int, order_id: int,
                        refund_id: int | None = None) -> bool:
    """An order email queued by ids (payments.tasks.order_email_send, the task every order email
    went through before core.email): rendered now and queued through the email service."""
    order = _load(Order(pk=order_id))
    to_user = User.objects.get(pk=user_id)
    refund = order.refunds.get(pk=refund_id) if refund_id is not None else None
    return _send(template=template, subject=subject, to_user=to_user, context={"order": order}, refund=refund)


def order_email_queue(*, order: Order, template: str, subject: str, to_user) -> bool:
    """Queue one email about `order` (templates/emails/<template>.txt and .html, rendered with the
    order's context by the task), for the apps above payments that write to buyers and sellers
    about an order (disputes/notifications.py)."""
    return _send(template=template, subject=subject, to_user=to_user, context={"order": order})


def _load(order: Order) -> Order:
    return Order.objects.select_related("buyer", "seller", "listing__stub").get(pk=order.pk)


def notify_order_paid(*, order: Order) -> None:
    """The payment succeeded: the buyer gets a confirmation, the seller a sale notice with the
    shipping address and a link to ship it."""
    order = _load(order)
    context = _order_context(order)
    event = order.listing.stub.event_name
    _send(
        template="order_paid_buyer",
        subject=f"Order #{order.pk} confirmed: {event}",
        to_user=order.buyer,
        context=context,
    )
    _send(
        template="order_paid_seller",
        subject=f"You sold a stub: {event} (order #{order.pk}) — please ship it",
        to_user=order.seller,
        context=context,
    )


def notify_order_shipped(*, order: Order) -> None:
    """The seller marked the order shipped: tell the buyer, with the tracking number if any."""
    order = _load(order)
    _send(
        template="order_shipped",
        subject=f"Order #{order.pk} has shipped: {order.listing.stub.event_name}",
        to_user=order.buyer,
        context=_order_context(order),
    )


def notify_late_payment_refunded(*, order: Order) -> None:
    """A payment succeeded after its reservation lapsed and the stub had gone to someone else:
    it was refunded in full. Both sides are told."""
    order = _load(order)
    context = _order_context(order)
    event = order.listing.stub.event_name
    _send(
        template="late_payment_refunded_buyer",
        subject=f"Order #{order.pk}: your payment was refunded in full",
        to_user=order.buyer,
        context=context,
    )
    _send(
        template="late_payment_refunded_seller",
        subject=f"Order #{order.pk} ({event}): a late payment was refunded",
        to_user=order.seller,
        context=context,
    )


def notify_fraud_warning(*, warning) -> None:
    """The card's bank reported the seller's sale as fraud (payments/services/fraud_warnings.py):
    what that means, and that our team may refund it to avoid a chargeback."""
    order = _load(warning.order)
    _send(
        template="fraud_warning_seller",
        subject=f"Order #{order.pk} ({order.listing.stub.event_name}): the card was reported as fraud",
        to_user=order.seller,
        context=_order_context(order),
    )


# -- refunds (payments/services/refunds.py). Each message names one Refund row (`refund` in the
# template), in dollars and plain words.


def staff_recipients():
    """Who hears about money that went wrong: the Finance group, or superusers when it is empty."""
    finance = User.objects.filter(is_active=True, is_staff=True, groups__name=FINANCE)
    return list(finance) or list(User.objects.filter(is_active=True, is_superuser=True))


def notify_refund_issued(*, refund) -> None:
    """Stripe sent the refund: the buyer learns when it reaches their card, the seller what left."""
    order = _load(refund.order)
    context = _order_context(order)
    amount = dollars(refund.amount_cents)
    _send(template="refund_issued_buyer", subject=f"Order #{order.pk}: {amount} refunded to your card",
          to_user=order.buyer, context=context, refund=refund)
    _send(template="refund_issued_seller", subject=f"Order #{order.pk}: {amount} refunded to the buyer",
          to_user=order.seller, context=context, refund=refund)


def notify_refund_pending(*, refund, tell_buyer: bool = True) -> None:
    """Stripe holds the refund until the seller's balance can cover it: seller and staff know
    why; the buyer (once) that the money is on its way, without the seller's business."""
    if tell_buyer:
        order = _load(refund.order)
        _send(template="refund_pending_buyer",
              subject=f"Order #{order.pk}: refund of {dollars(refund.amount_cents)} on its way",
              to_user=order.buyer, context=_order_context(order), refund=refund)
    _tell_seller_and_staff(refund=refund, template="refund_pending", what="is pending")


def notify_refund_failed(*, refund) -> None:
    """The refund failed or was cancelled: the buyer did not get the money; seller and staff act."""
    _tell_seller_and_staff(refund=refund, template="refund_failed", what="failed")


def _tell_seller_and_staff(*, refund, template: str, what: str) -> None:
    order = _load(refund.order)
    context = _order_context(order)
    subject = f"Order #{order.pk}: refund of {dollars(refund.amount_cents)} {what}"
    for user in [order.seller, *staff_recipients()]:
        _send(template=template, subject=subject, to_user=user, context=context, refund=refund)
