"""A dispute on the order page's timeline and badge, in the buyer's and the seller's words
(disputes/order_words.py, through payments' order_move_words_register)."""

import pytest

from payments.models import OrderStatus
from payments.tests.test_order_words import assert_no_staff_words, badge_for, page_for, timeline_for
from payments.tests.webhook_support import deliver

pytestmark = pytest.mark.django_db



def test_a_dispute_the_buyer_won_is_theirs_to_read_as_won_and_the_sellers_as_lost(
    client, paid_order, webhook_sandbox
):
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)
    deliver(webhook_sandbox)
    assert badge_for(client, paid_order.buyer, paid_order) == "Disputed with your bank"

    webhook_sandbox.resolve_dispute(dispute["id"], "lost")
    deliver(webhook_sandbox)
    paid_order.refresh_from_db()
    amount = f"${paid_order.amount_cents / 100:.2f}"

    buyer_page = page_for(client, paid_order.buyer, paid_order)
    assert paid_order.status == OrderStatus.DISPUTE_LOST
    assert badge_for(client, paid_order.buyer, paid_order) == "Refunded by your bank"
    assert "Dispute lost" not in buyer_page
    assert timeline_for(client, paid_order.buyer, paid_order)[-2:] == [
        f"You disputed this payment ({amount}) with your bank",
        f"The dispute ended in your favour: your bank gave you back {amount}",
    ]
    assert "Your bank decided the dispute in your favour" in buyer_page
    assert badge_for(client, paid_order.seller, paid_order) == "Dispute lost"
    assert timeline_for(client, paid_order.seller, paid_order)[-1] == (
        f"Dispute lost: the bank gave {amount} back to the buyer"
    )
    assert_no_staff_words(buyer_page)


def test_a_dispute_the_seller_won_reads_won_for_the_seller_and_plainly_for_the_buyer(
    client, paid_order, webhook_sandbox
):
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)
    deliver(webhook_sandbox)
    webhook_sandbox.resolve_dispute(dispute["id"], "won")
    deliver(webhook_sandbox)

    seller_line = timeline_for(client, paid_order.seller, paid_order)[-1]
    buyer_line = timeline_for(client, paid_order.buyer, paid_order)[-1]

    assert seller_line == "Dispute won: the money is back in your balance"
    assert buyer_line == "The dispute ended in the seller's favour"
    assert badge_for(client, paid_order.buyer, paid_order) == "Paid"
