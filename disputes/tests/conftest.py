"""The cast of the disputes tests: a shipped order its buyer's bank disputes, and a Support agent;
the S3 bucket on moto's server for the evidence storage tests (testing/s3.py)."""

import pytest
import stripe

from disputes.models import Dispute
from payments.services.fulfilment import order_ship
from payments.staff import SUPPORT
from payments.tests.factories import staff_member
from payments.tests.webhook_support import deliver
from testing.s3 import s3_media, s3_server  # noqa: F401 (fixtures, for test_evidence_storage.py)


@pytest.fixture
def dispute(paid_order, webhook_sandbox):
    """A paid order, shipped, then disputed as not received (Stripe's charge.dispute.created
    delivered through our webhook)."""
    order_ship(order_id=paid_order.pk, seller=paid_order.seller, tracking_number="1Z999AA10123456784")
    charge_id = stripe.PaymentIntent.retrieve(
        paid_order.payment_intent_id, stripe_account=paid_order.stripe_account_id
    ).latest_charge
    webhook_sandbox.open_dispute(charge_id, reason="product_not_received")
    deliver(webhook_sandbox)
    return Dispute.objects.select_related("order__seller").get(order=paid_order)


@pytest.fixture
def support():
    """A staff member in the Support group (payments/staff.py), who may answer disputes."""
    return staff_member(SUPPORT, username="support")
