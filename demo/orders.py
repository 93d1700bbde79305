"""Demo purchases (seed_demo, demo.catalogue.create_demo_orders): real sandbox payments made the
way a buyer makes them, so staff can refund or dispute a demo order like any other.

The buyer's path: `checkout_start` (hold the listing, open the order, create the PaymentIntent on
the seller's account), then confirm it with a test card as Stripe.js would. The success is applied
at once from Stripe's PaymentIntent (the webhook handlers' own function), not left for the webhook:
while seed_demo runs the site may not be up to receive it, and the demo order must be paid before
it is shipped. The webhook, when it comes, finds the order paid and does nothing.
"""

from django.db import transaction

from core.errors import Conflict
from payments import stripe_api
from payments.models import Order, OrderStatus
from payments.services.checkout import checkout_start
from payments.services.payment_events import payment_facts_fetch, payment_intent_apply

TEST_CARD = "pm_card_visa"  # https://docs.stripe.com/testing#cards


class DemoPaymentNotMade(Conflict):
    code = "demo_payment_not_made"
    message = "The demo payment did not go through."


def demo_order_pay(*, listing_id: int, buyer, shipping: dict, payment_method: str = TEST_CARD) -> Order:
    """Buy `listing_id` as `buyer` with a test card; the paid order. Raises PaymentProviderError
    when Stripe (the sandbox) does not answer, and DemoPaymentNotMade when the payment was not
    honoured."""
    order = checkout_start(listing_id=listing_id, buyer=buyer, shipping=shipping).order
    stripe_api.payment_intent_confirm_test_card(order=order, payment_method=payment_method, actor=buyer)
    facts = payment_facts_fetch(
        payment_intent_id=order.payment_intent_id, stripe_account=order.stripe_account_id
    )
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        payment_intent_apply(order=locked, facts=facts, event_id="")
    locked.refresh_from_db()
    if locked.status != OrderStatus.PAID:
        raise DemoPaymentNotMade(f"Order #{locked.pk} is {locked.get_status_display().lower()}, not paid.")
    return locked
