"""The cast of the disputes tests: a shipped order its buyer's bank disputes, and a Support agent;
the S3 bucket on moto's server for the evidence storage tests (testing/s3.py)."""

import pytest
import stripe

from disputes.models import Dispute
from payments.services.fulfilment import order_ship
from payments.staff import SUPPORT
from payments.tests.factories import staff_member
from payments.tests.webhook_support import deliver, pay, sandbox_order
from testing import paid_snapshot
from testing.s3 import s3_media, s3_server  # noqa: F401 (fixtures, for test_evidence_storage.py)


def _dispute_build(sandbox) -> int:
    order = sandbox_order(sandbox)
    pay(order)
    deliver(sandbox)
    order_ship(order_id=order.pk, seller=order.seller, tracking_number="1Z999AA10123456784")
    charge_id = stripe.PaymentIntent.retrieve(
        order.payment_intent_id, stripe_account=order.stripe_account_id
    ).latest_charge
    sandbox.open_dispute(charge_id, reason="product_not_received")
    deliver(sandbox)
    return order.pk


@pytest.fixture
@paid_snapshot.shared(_dispute_build)
def dispute(webhook_sandbox, client, request):
    """A paid order (as the root conftest's paid_order), shipped, then disputed as not received
    (Stripe's charge.dispute.created delivered through our webhook). Made once for the tests
    that take it, each in its own savepoint (testing/paid_snapshot.py)."""
    order = paid_snapshot.take(request, webhook_sandbox, client, _dispute_build)
    return Dispute.objects.select_related("order__seller").get(order=order)


@pytest.fixture
def support():
    """A staff member in the Support group (payments/staff.py), who may answer disputes."""
    return staff_member(SUPPORT, username="support")
