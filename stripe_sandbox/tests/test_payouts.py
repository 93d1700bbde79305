"""Automatic payouts on the account's schedule as the clock advances
(https://docs.stripe.com/connect/manage-payout-schedule, https://docs.stripe.com/api/payouts/object)."""

import datetime

import pytest
import stripe

from stripe_sandbox.resources.payouts import is_payout_day

from .conftest import pay

DAY = 86400


@pytest.fixture
def payouts_on(stripe_sandbox):
    stripe_sandbox.automatic_payouts = True
    return stripe_sandbox


def balance(account_id):
    found = stripe.Balance.retrieve(stripe_account=account_id)
    return found.available[0].amount, found.pending[0].amount


def payout_events(sandbox, account_id):
    return [(e["type"], e["data"]["object"]["id"], e["data"]["object"]["status"])
            for e in sandbox.events(account=account_id) if e["type"].startswith("payout.")]


def midnight(moment: int) -> int:
    return moment - moment % DAY


def test_a_daily_schedule_pays_the_available_balance_out_pending_then_paid(payouts_on, seller):
    pay(seller["id"], amount=5000, fee=500)  # 4325 net (Stripe's fee too): pending for 2 days

    payouts_on.advance_time(1 * DAY)
    assert stripe.Payout.list(stripe_account=seller["id"]).data == []

    payouts_on.advance_time(2 * DAY)

    [payout] = stripe.Payout.list(stripe_account=seller["id"]).data
    assert (payout.amount, payout.currency, payout.status, payout.automatic) == (4325, "usd", "pending", True)
    assert payout.destination.startswith("ba_")
    assert payout.arrival_date == payout.created + 2 * DAY
    assert balance(seller["id"]) == (0, 0)
    txn = stripe.BalanceTransaction.retrieve(payout.balance_transaction, stripe_account=seller["id"])
    assert (txn.type, txn.amount, txn.source) == ("payout", -4325, payout.id)

    payouts_on.advance_time(2 * DAY)

    assert stripe.Payout.retrieve(payout.id, stripe_account=seller["id"]).status == "paid"
    assert payout_events(payouts_on, seller["id"]) == [
        ("payout.created", payout.id, "pending"), ("payout.paid", payout.id, "paid")]


def test_one_long_jump_makes_each_payout_on_its_own_day(payouts_on, seller):
    pay(seller["id"], amount=5000, fee=500)
    payouts_on.advance_time(1 * DAY)
    pay(seller["id"], amount=2000, fee=200)

    payouts_on.advance_time(10 * DAY)

    payouts = stripe.Payout.list(stripe_account=seller["id"]).data
    assert sorted(p.amount for p in payouts) == [1712, 4325]
    assert {p.status for p in payouts} == {"paid"}
    assert len({midnight(p.created) for p in payouts}) == 2


def test_manual_payouts_never_pay_out_by_themselves(payouts_on, seller):
    stripe.Account.modify(seller["id"], settings={"payouts": {"schedule": {"interval": "manual"}}})
    pay(seller["id"], amount=5000, fee=500)

    payouts_on.advance_time(10 * DAY)

    assert stripe.Payout.list(stripe_account=seller["id"]).data == []
    assert balance(seller["id"]) == (4325, 0)


def test_a_weekly_schedule_pays_only_on_its_anchor_day(payouts_on, seller):
    stripe.Account.modify(seller["id"], settings={"payouts": {"schedule": {
        "interval": "weekly", "weekly_anchor": "friday"}}})
    pay(seller["id"], amount=5000, fee=500)

    payouts_on.advance_time(14 * DAY)

    payouts = stripe.Payout.list(stripe_account=seller["id"]).data
    assert payouts
    for payout in payouts:
        assert datetime.datetime.fromtimestamp(payout.created, datetime.UTC).strftime("%A") == "Friday"


def test_a_monthly_anchor_past_the_end_of_a_short_month_pays_on_its_last_day():
    schedule = {"interval": "monthly", "monthly_anchor": 31}
    last_of_february = int(datetime.datetime(2027, 2, 28, tzinfo=datetime.UTC).timestamp())

    assert is_payout_day(schedule, last_of_february)
    assert not is_payout_day(schedule, last_of_february - DAY)


def test_a_negative_balance_is_not_paid_out_and_later_sales_cover_it_first(payouts_on, seller):
    pay(seller["id"], amount=5000, fee=500, payment_method="pm_card_createDispute")

    payouts_on.advance_time(4 * DAY)

    assert stripe.Payout.list(stripe_account=seller["id"]).data == []
    assert balance(seller["id"])[0] == 4325 - 5000 - 1500


def test_no_payouts_when_the_clock_moves_unless_they_are_turned_on(stripe_sandbox, seller):
    pay(seller["id"], amount=5000, fee=500)

    stripe_sandbox.advance_time(10 * DAY)

    assert stripe.Payout.list(stripe_account=seller["id"]).data == []
    assert balance(seller["id"]) == (4325, 0)


def test_payouts_of_one_account_are_not_visible_to_another(payouts_on, seller):
    other = payouts_on.create_account(email="other@example.com")
    pay(seller["id"], amount=5000, fee=500)
    payouts_on.advance_time(4 * DAY)
    [payout] = stripe.Payout.list(stripe_account=seller["id"]).data

    assert stripe.Payout.list(stripe_account=other["id"]).data == []
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Payout.retrieve(payout.id, stripe_account=other["id"])
