"""The cast of the problem report tests: a real sandbox sale (refunds go to Stripe's sandbox) whose
money is available, its buyer and seller, strangers of each kind, and helpers that move the
clock: reports are opened with `now` a given number of days after payment."""

import datetime

import pytest

from accounts.tests.factories import UserFactory
from payments.models import Order
from payments.services.fulfilment import order_ship
from payments.tests.factories import sandbox_seller_onboarded, staff_member
from payments.tests.webhook_support import PAYOUT_DELAY_SECONDS, deliver, pay, sandbox_order
from problems.services import problem_report_open
from testing import paid_snapshot


def _sale_build(sandbox) -> int:
    order = sandbox_order(sandbox, price_cents=5000)
    pay(order)
    deliver(sandbox)
    sandbox.advance_time(PAYOUT_DELAY_SECONDS)
    return order.pk


@pytest.fixture
@paid_snapshot.shared(_sale_build)
def sale(webhook_sandbox, client, request):
    """A $50.00 order paid on the sandbox, past the payout delay (a refund goes through at once).
    Made once for the tests that take it, each in its own savepoint (testing/paid_snapshot.py)."""
    return paid_snapshot.take(request, webhook_sandbox, client, _sale_build)


@pytest.fixture
def shipped(sale):
    order_ship(order_id=sale.pk, seller=sale.seller, tracking_number="1Z999")
    sale.refresh_from_db()
    return sale


@pytest.fixture
def stranger():
    return UserFactory()


@pytest.fixture
def other_seller(webhook_sandbox):
    return sandbox_seller_onboarded(webhook_sandbox)


@pytest.fixture
def support():
    return staff_member("Support")


@pytest.fixture
def finance():
    return staff_member("Finance")


def days_after_payment(order: Order, days: float) -> datetime.datetime:
    return order.paid_at + datetime.timedelta(days=days)


@pytest.fixture
def reported():
    """`reported(order, kind="not_received")`: the buyer's report, opened 15 days after payment."""

    def open_report(order, kind="not_received", description="It never came.", days=15, photos=()):
        report, created = problem_report_open(
            order_id=order.pk,
            buyer=order.buyer,
            kind=kind,
            description=description,
            photos=photos,
            now=days_after_payment(order, days),
        )
        assert created
        return report

    return open_report
