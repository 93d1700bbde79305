"""Support's refund limits under parallel requests on PostgreSQL: the totals are read under the
order's row lock (and the agent's, for the 24-hour total that spans orders), so requests that
arrive together are judged one after the other and cannot each pass a check the other has
already used up."""

import time

import pytest
from django.test import Client

from payments.models import Refund, RefundApproval
from payments.staff import SUPPORT
from payments.tests.factories import staff_member
from payments.tests.webhook_support import endpoints_register, sandbox_order_paid
from testing.threads import run_at_once

# Row locks: PostgreSQL only (the root conftest skips these elsewhere).
pytestmark = pytest.mark.postgres


@pytest.fixture
def slow_check(monkeypatch):
    """Hold each request a moment between reading the totals and writing its refund, so that
    without the locks every parallel request would read the same totals (the race made sure)."""
    from payments.services import refunds

    check = refunds.refund_support_blocker

    def checked_slowly(**kwargs):
        answer = check(**kwargs)
        time.sleep(0.3)
        return answer

    monkeypatch.setattr(refunds, "refund_support_blocker", checked_slowly)


def refund_by(user, order, amount_cents, token):
    def click():
        client = Client()
        client.force_login(user)
        response = client.post(
            f"/payments/orders/{order.pk}/refund/",
            {"amount": amount_cents},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=token,
        )
        return response.status_code

    return click


def test_two_support_agents_at_once_cannot_both_refund_under_the_orders_limit(
    transactional_db, stripe_sandbox, settings, slow_check
):
    settings.SUPPORT_REFUND_LIMIT_CENTS = 10000
    endpoints_register(stripe_sandbox, Client())
    order = sandbox_order_paid(stripe_sandbox, price_cents=13550)
    agents = [staff_member(SUPPORT) for _ in range(4)]

    results = run_at_once([refund_by(agent, order, 6000, f"k{i}") for i, agent in enumerate(agents)])

    assert sorted(results) == [201, 202, 202, 202], results
    assert list(Refund.objects.values_list("amount_cents", flat=True)) == [6000]
    assert RefundApproval.objects.count() == 3


def test_one_agent_on_two_orders_at_once_cannot_pass_the_daily_limit_twice(
    transactional_db, stripe_sandbox, settings, slow_check
):
    settings.SUPPORT_REFUND_DAILY_LIMIT_CENTS = 10000
    endpoints_register(stripe_sandbox, Client())
    orders = [sandbox_order_paid(stripe_sandbox, price_cents=13550) for _ in range(3)]
    agent = staff_member(SUPPORT)

    results = run_at_once([refund_by(agent, order, 6000, f"k{i}") for i, order in enumerate(orders)])

    assert sorted(results) == [201, 202, 202], results
    assert Refund.objects.count() == 1
