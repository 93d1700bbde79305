"""The dispute evidence describes the stub as it was sold (the order's snapshot), never as the
seller rewrote it since."""

import pytest

from disputes.models import Dispute
from disputes.services import dispute_evidence_prefill
from payments.tests.test_order_snapshot import SOLD_DESCRIPTION, bought, rewrite

pytestmark = pytest.mark.django_db


def test_the_dispute_evidence_describes_the_stub_as_sold(webhook_sandbox):
    order = bought(webhook_sandbox, card="pm_card_createDispute")
    sold_name = order.listing.stub.event_name
    rewrite(order.listing.stub)

    evidence = dispute_evidence_prefill(dispute=Dispute.objects.get(order=order))

    description = evidence["product_description"]
    assert sold_name in description and SOLD_DESCRIPTION in description and "Condition: Fair" in description
    assert "Something else entirely" not in description and "Pristine" not in description
