"""An order page speaks to whoever reads it: the buyer in the second person ("You paid"), the
seller from theirs, and neither ever reads the audit trail's staff wording (Stripe's object
names, our state names, listing numbers)."""

import datetime
import html

import pytest
from django.utils import timezone

from payments.services.audit import audit_record
from payments.services.fulfilment import order_ship
from payments.services.reservations import reservations_release_expired
from payments.tests.factories import RefundFactory
from payments.tests.webhook_support import deliver, sandbox_order

pytestmark = pytest.mark.django_db


# Words staff may read in admin and no buyer or seller should on their order page.
STAFF_WORDS = ("PaymentIntent", "payment_intent", "Hold lapsed", "Checkout opened for listing", "Superseded",
               "cents", "(Shipped)", "pending at Stripe")


def page_for(client, user, order) -> str:
    client.force_login(user)
    response = client.get(f"/orders/{order.pk}/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def timeline_for(client, user, order) -> list[str]:
    client.force_login(user)
    return [line.text for line in client.get(f"/orders/{order.pk}/").context["timeline"]]


def badge_for(client, user, order) -> str:
    client.force_login(user)
    return client.get(f"/orders/{order.pk}/").context["status_words"]


def assert_no_staff_words(page: str):
    assert not [word for word in STAFF_WORDS if word in page]


def test_a_paid_and_shipped_order_reads_you_paid_and_who_shipped_it_once(client, paid_order):
    order_ship(order_id=paid_order.pk, seller=paid_order.seller, carrier="usps", tracking_number="9400 1000")
    amount = f"${paid_order.amount_cents / 100:.2f}"
    seller_name, buyer_name = paid_order.seller.display_name, paid_order.buyer.display_name

    assert timeline_for(client, paid_order.buyer, paid_order) == [
        f"You paid {amount}", f"{seller_name} shipped it with USPS, tracking number 9400 1000",
    ]
    assert timeline_for(client, paid_order.seller, paid_order) == [
        f"{buyer_name} paid {amount}", "You shipped it with USPS, tracking number 9400 1000",
    ]
    for user in (paid_order.buyer, paid_order.seller):
        assert_no_staff_words(page_for(client, user, paid_order))


def test_a_lapsed_hold_says_nothing_was_charged_and_never_you_paid(client, webhook_sandbox):
    order = sandbox_order(webhook_sandbox)
    reservations_release_expired(now=timezone.now() + datetime.timedelta(days=1))

    page = page_for(client, order.buyer, order)
    lines = timeline_for(client, order.buyer, order)

    assert lines == ["Your hold ended before you paid; nothing was charged"]
    assert badge_for(client, order.buyer, order) == "Not paid"
    assert "You paid" not in page
    assert_no_staff_words(page)


def test_a_pending_refund_is_on_its_way_to_the_buyer_without_the_sellers_balance(client, paid_order):
    refund = RefundFactory(order=paid_order, amount_cents=1000, status="pending")
    audit_record(action="refund.pending", order=paid_order, message="staff words",
                 data={"refund": refund.pk})

    buyer_page = page_for(client, paid_order.buyer, paid_order)

    assert timeline_for(client, paid_order.buyer, paid_order)[-1] == "Refund of $10.00 on its way"
    assert "balance" not in buyer_page
    assert timeline_for(client, paid_order.seller, paid_order)[-1] == (
        "Refund of $10.00 pending: Stripe sends it once your balance covers it"
    )


def test_the_buyers_order_list_and_status_json_use_the_buyers_words(client, paid_order, webhook_sandbox):
    dispute = webhook_sandbox.open_dispute(paid_order.payment.charge_id)
    deliver(webhook_sandbox)
    webhook_sandbox.resolve_dispute(dispute["id"], "lost")
    deliver(webhook_sandbox)
    client.force_login(paid_order.buyer)

    listed = client.get("/orders/").content.decode()
    status = client.get(f"/payments/orders/{paid_order.pk}/status/").json()

    assert "Refunded by your bank" in listed and "Dispute lost" not in listed
    assert status["status_display"] == "Refunded by your bank"
