import pytest

from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent, Order, OrderStatus
from payments.services.orders import ALLOWED_TRANSITIONS, IllegalOrderTransition, order_transition

pytestmark = pytest.mark.django_db


def make_order(status=OrderStatus.PENDING_PAYMENT):
    listing = ListingFactory()
    from accounts.tests.factories import UserFactory

    return Order.objects.create(
        buyer=UserFactory(),
        seller=listing.seller,
        listing=listing,
        amount_cents=5000,
        application_fee_cents=500,
        stripe_account_id=listing.seller.stripe_account_id,
        status=status,
        shipping_name="Ada",
        shipping_line1="1 Main St",
        shipping_city="Springfield",
        shipping_postal_code="12345",
    )


def test_every_status_has_a_row_in_the_transition_table():
    assert set(ALLOWED_TRANSITIONS) == set(OrderStatus.values)


def test_paying_a_pending_order_stamps_the_time_and_writes_an_audit_row():
    order = make_order()
    order_transition(order=order, to=OrderStatus.PAID, stripe_event_id="evt_1")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    audit = AuditEvent.objects.get(order=order, action="order.transition")
    assert (audit.from_status, audit.to_status, audit.stripe_event_id) == ("pending_payment", "paid", "evt_1")


NOT_AFTER_REFUND = [OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED, OrderStatus.PAYMENT_FAILED,
                    OrderStatus.DISPUTED]


@pytest.mark.parametrize("to", NOT_AFTER_REFUND)
def test_a_refunded_order_cannot_be_reopened_cancelled_or_disputed(to):
    order = make_order(OrderStatus.REFUNDED)
    with pytest.raises(IllegalOrderTransition):
        order_transition(order=order, to=to)
    assert not AuditEvent.objects.filter(order=order).exists()


@pytest.mark.parametrize("back_to", [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED,
                                     OrderStatus.PARTIALLY_REFUNDED])
def test_a_refund_that_failed_puts_a_refunded_order_back_where_it_was(back_to):
    order = make_order(OrderStatus.REFUNDED)
    order_transition(order=order, to=back_to, message="Refund failed")
    assert order.status == back_to


def test_a_dispute_remembers_where_the_order_was():
    order = make_order(OrderStatus.SHIPPED)
    order_transition(order=order, to=OrderStatus.DISPUTED)
    assert order.status_before_dispute == OrderStatus.SHIPPED
