"""The shared paid order (testing/paid_snapshot.py): every test that takes it starts from the
same purchase and sees nothing another test did to it; a test whose sandbox is used before the
fixture runs gets a purchase of its own, with none of the shared rows beside it."""

import pytest
import stripe

from accounts.models import User
from payments.models import Order, OrderStatus, Payment
from payments.tests.webhook_support import sandbox_refunds

pytestmark = pytest.mark.django_db


@pytest.fixture
def account_first(stripe_sandbox):
    """An account made in the test's sandbox before the paid order's fixture runs."""
    return stripe_sandbox.create_account(email="first@example.com")["id"]


def _one_paid_order_and_nothing_else(order, sandbox):
    assert order.status == OrderStatus.PAID
    assert list(Order.objects.values_list("pk", flat=True)) == [order.pk]
    assert Payment.objects.get().order_id == order.pk
    assert User.objects.count() == 2  # its buyer and its seller
    intent = stripe.PaymentIntent.retrieve(order.payment_intent_id, stripe_account=order.stripe_account_id)
    assert intent.status == "succeeded"
    assert sandbox_refunds(sandbox, order) == []
    assert [d["status"] for d in sandbox.deliveries] and all(
        d["status"] == "succeeded" for d in sandbox.deliveries)


@pytest.mark.parametrize("turn", [1, 2, 3])
def test_each_test_starts_from_the_purchase_whatever_the_one_before_did(paid_order, webhook_sandbox, turn):
    _one_paid_order_and_nothing_else(paid_order, webhook_sandbox)
    # What this test does must not be seen by the next one.
    stripe.Refund.create(payment_intent=paid_order.payment_intent_id,
                         stripe_account=paid_order.stripe_account_id, amount=100 * turn)
    webhook_sandbox.advance_time(86400 * turn)
    Order.objects.filter(pk=paid_order.pk).update(status=OrderStatus.SHIPPED)
    User.objects.create(username=f"extra{turn}")


def test_a_sandbox_used_before_the_fixture_gets_a_purchase_of_its_own(account_first, paid_order,
                                                                     webhook_sandbox):
    _one_paid_order_and_nothing_else(paid_order, webhook_sandbox)
    assert webhook_sandbox.get(account_first)["email"] == "first@example.com"
