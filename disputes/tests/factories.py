"""Disputes for tests. Like payments' factories, they write rows directly: no Stripe, no audit."""

import datetime

import factory
from django.utils import timezone

from disputes.models import Dispute, DisputeStatus
from payments.models import OrderStatus
from payments.tests.factories import PaidOrderFactory


class DisputeFactory(factory.django.DjangoModelFactory):
    """A chargeback waiting for evidence, due in a week."""

    class Meta:
        model = Dispute

    order = factory.SubFactory(PaidOrderFactory, status=OrderStatus.DISPUTED)
    stripe_dispute_id = factory.Sequence(lambda n: f"dp_test{n:014d}")
    stripe_account_id = factory.SelfAttribute("order.stripe_account_id")
    amount_cents = factory.SelfAttribute("order.amount_cents")
    reason = "product_not_received"
    status = DisputeStatus.NEEDS_RESPONSE
    evidence_due_by = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
