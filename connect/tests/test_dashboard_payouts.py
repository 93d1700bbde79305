"""The seller dashboard's money: the payouts panel read from Stripe (schedule, next payout,
recent payouts; cached, soft when Stripe is down, only the seller's own), what each sale nets,
and a balance below zero explained."""

import datetime

import pytest

from accounts.tests.factories import UserFactory
from connect.selectors import next_payout_date, seller_payouts_panel
from connect.services.payouts import SellerBalance
from connect.tests.support import DASHBOARD, dashboard_page, sandbox_seller_new
from payments.models import AuditEvent
from payments.tests.factories import PaymentFactory
from payments.tests.webhook_support import deliver, endpoints_register, pay, sandbox_order

pytestmark = pytest.mark.django_db

DAY = 86400


def sold_and_paid_out(sandbox, seller, price_cents=5000):
    """A sale, then the clock past the account's payout delay and the next midnight: Stripe made
    a payout of it, not yet arrived (two days)."""
    pay(sandbox_order(sandbox, seller=seller, price_cents=price_cents))
    sandbox.automatic_payouts = True
    delay = sandbox.get(seller.stripe_account_id)["settings"]["payouts"]["schedule"]["delay_days"]
    sandbox.advance_time((delay + 1) * DAY)


def test_the_payouts_panel_shows_the_schedule_and_the_payout_stripe_made(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    sold_and_paid_out(stripe_sandbox, seller)

    page = dashboard_page(client, seller)

    assert 'id="payouts"' in page
    assert "Daily: Stripe sends your available balance to your bank every day." in page
    assert "becomes available" in page
    assert "$45.00" in page and "Being sent" in page
    assert "Nothing yet: sales are paid out once their money becomes available." in page


def test_a_paid_payout_shows_as_paid_to_the_bank(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    sold_and_paid_out(stripe_sandbox, seller)
    stripe_sandbox.advance_time(2 * DAY)

    page = dashboard_page(client, seller)

    assert "Paid to your bank" in page and "Being sent" not in page


def test_a_seller_sees_only_their_own_payouts(client, stripe_sandbox):
    seller, other = sandbox_seller_new(stripe_sandbox), sandbox_seller_new(stripe_sandbox)
    sold_and_paid_out(stripe_sandbox, seller, price_cents=7700)

    page = dashboard_page(client, other)

    assert "No payouts yet." in page
    assert "$69.30" not in page  # the other seller's payout (77.00 less the 7.70 fee)
    assert "$69.30" in dashboard_page(client, seller)


def test_the_panel_is_read_from_stripe_once_a_minute_not_on_every_reload(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)

    dashboard_page(client, seller)
    dashboard_page(client, seller)

    assert AuditEvent.objects.filter(action="stripe.payout.list", subject_user=seller).count() == 1


@pytest.mark.parametrize("fault", [{"status": 500}, {"exception": "timeout"}])
def test_the_dashboard_still_works_when_stripe_does_not_answer_for_payouts(client, stripe_sandbox, fault):
    seller = sandbox_seller_new(stripe_sandbox)
    PaymentFactory(order__listing__seller=seller)
    stripe_sandbox.fail_next("/v1/payouts", times=3, **fault)

    page = dashboard_page(client, seller)

    assert "Your payouts cannot be shown right now" in page
    assert "you net $" in page  # the sales are there
    assert "Available (USD)" in page


def test_a_buyer_and_a_visitor_get_no_payouts_panel(client):
    assert client.get(DASHBOARD).status_code == 302
    assert 'id="payouts"' not in dashboard_page(client, UserFactory())


def test_each_sale_shows_what_the_seller_nets_with_the_steps(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    PaymentFactory(order__listing__seller=seller, order__listing__price_cents=300)

    page = dashboard_page(client, seller)

    assert "you net $2.61" in page
    assert "Platform fee, the minimum: Stripe&#x27;s card fee on this sale" in page
    assert "paid by Stub Collector, not you" in page


def test_a_seller_whose_dispute_took_the_balance_below_zero_is_told_why(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    endpoints_register(stripe_sandbox, client)
    order = sandbox_order(stripe_sandbox, seller=seller)
    pay(order, "pm_card_disputed")
    deliver(stripe_sandbox)

    page = dashboard_page(client, seller)

    assert f"A dispute took $50.00 on order #{order.pk}" in page
    assert 'id="balance-explanation"' in page


def test_the_next_payout_is_the_available_balance_on_the_next_payout_day(stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    now = datetime.datetime(2026, 12, 7, 15, 0, tzinfo=datetime.UTC)  # a Monday

    panel = seller_payouts_panel(user=seller, balance=SellerBalance(available={"usd": 4500}), now=now)

    assert panel.next_payout.startswith("$45.00 on Tue 8 Dec 2026")


def test_weekly_and_monthly_schedules_and_manual_payouts_have_their_own_next_day():
    monday, day = datetime.date(2026, 12, 7), datetime.date
    weekly = {"interval": "weekly", "weekly_anchor": "friday"}
    monthly = {"interval": "monthly", "monthly_anchor": 31}

    assert next_payout_date(weekly, monday) == day(2026, 12, 11)
    assert next_payout_date(monthly, monday) == day(2026, 12, 31)
    assert next_payout_date(monthly, day(2027, 2, 1)) == day(2027, 2, 28)
    assert next_payout_date({"interval": "manual"}, monday) is None


def test_a_payout_made_and_paid_sends_no_event_production_does_not_enable(client, stripe_sandbox):
    """Production's Connect endpoint enables payout.failed only (a failed payout puts the money
    back, so the balance is read again); the panel reads payouts from Stripe, so the created and
    paid events of a payout are not subscribed to and never reach us."""
    from djstripe.models import WebhookEventTrigger

    seller = sandbox_seller_new(stripe_sandbox)
    endpoints_register(stripe_sandbox, client)
    sold_and_paid_out(stripe_sandbox, seller)
    stripe_sandbox.advance_time(2 * DAY)

    deliver(stripe_sandbox)

    made = {event["type"] for event in stripe_sandbox.events(account=seller.stripe_account_id)}
    assert {"payout.created", "payout.paid"} <= made  # Stripe made the payout and paid it
    assert not [d for d in stripe_sandbox.deliveries if d["event_type"].startswith("payout.")]
    assert not WebhookEventTrigger.objects.filter(body__contains='"type": "payout.').exists()
    assert WebhookEventTrigger.objects.exists()  # the sale's events did arrive
    assert all(trigger.processed and not trigger.exception for trigger in WebhookEventTrigger.objects.all())
    assert "Paid to your bank" in dashboard_page(client, seller)
