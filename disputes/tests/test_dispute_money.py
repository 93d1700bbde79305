"""What disputes take from a sale and from the seller's balance, in the seller's words: the
disputes app's answers to payments' money lines (payments.selectors.money, through
payments/order_disputes.py)."""

import pytest

from disputes.models import Dispute
from payments.models import Order
from payments.selectors.money import sale_money, seller_balance_explanation
from payments.tests.test_sale_money import lines, paid_in_sandbox
from payments.tests.webhook_support import deliver

pytestmark = pytest.mark.django_db


def test_a_lost_dispute_takes_the_amount_keeps_the_platform_fee_and_the_dispute_fee_is_the_platforms(
    webhook_sandbox,
):
    order = paid_in_sandbox(webhook_sandbox, card="pm_card_disputed")
    dispute = Dispute.objects.get(order=order)
    assert sale_money(order=order).net == "-$5.00"
    assert "Held for the dispute (back if you win it)" in lines(sale_money(order=order))

    webhook_sandbox.resolve_dispute(dispute.stripe_dispute_id, "lost")
    deliver(webhook_sandbox)

    order = Order.objects.get(pk=order.pk)
    money = sale_money(order=order)
    assert lines(money)["Taken by the lost dispute"] == "-$50.00"
    assert lines(money)["Stripe's dispute fee, paid by Stub Collector, not you"] == "$15.00"
    assert money.net == "-$5.00"


def test_a_won_dispute_gives_the_sale_back(webhook_sandbox):
    order = paid_in_sandbox(webhook_sandbox, card="pm_card_disputed")
    dispute = Dispute.objects.get(order=order)

    webhook_sandbox.resolve_dispute(dispute.stripe_dispute_id, "won")
    deliver(webhook_sandbox)

    money = sale_money(order=Order.objects.get(pk=order.pk))
    assert money.net == "$45.00"
    assert "Stripe's dispute fee, paid by Stub Collector, not you" not in lines(money)


def test_a_dispute_that_takes_the_balance_below_zero_is_explained_in_words(webhook_sandbox):
    order = paid_in_sandbox(webhook_sandbox, card="pm_card_disputed")
    seller = order.seller
    seller.stripe_balance_available_cents = seller.stripe_balance_cents = -500
    seller.save()

    said = seller_balance_explanation(seller=seller)

    assert said.startswith(f"A dispute took $50.00 on order #{order.pk}")
    assert "Buyers cannot buy your listings until it is back at zero" in said
