"""A disputed order's refund depends on its dispute, which payments asks the disputes app about
(payments/order_disputes.py): staff may refund during an inquiry Stripe still lets us refund,
never a chargeback, and the seller's page never offers it."""

import pytest

from disputes.tests.factories import DisputeFactory
from payments.selectors.orders import order_actions_for
from payments.services.refunds import order_paid_refundable, order_refundable_status


@pytest.mark.django_db
def test_a_disputed_order_is_refundable_by_staff_during_an_inquiry_but_never_from_the_sellers_page():
    inquiry = DisputeFactory(is_inquiry=True, status="warning_needs_response", charge_refundable=True)
    chargeback = DisputeFactory()

    assert order_refundable_status(order=inquiry.order) is True
    assert order_refundable_status(order=chargeback.order) is False
    for order in (inquiry.order, chargeback.order):
        assert order_paid_refundable(order=order) is False
        assert order_actions_for(order=order, user=order.seller).can_refund is False
