"""manage.py reconcile_stripe: its exit codes, its JSON, its options, and a run Stripe interrupts
that the next one resumes where it stopped, page by page."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import stripe
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from payments.tests.webhook_support import pay, sandbox_order
from reconciliation.models import ReconciliationRun, RunCursor, RunStatus
from reconciliation.services.run import WINDOW, RunInterrupted, _Reader, reconciliation_run

pytestmark = pytest.mark.django_db


def command(*args):
    """The command's output and exit status (0, or the CommandError's)."""
    out = StringIO()
    try:
        call_command("reconcile_stripe", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error.returncode, str(error)
    return out.getvalue(), 0, ""


def yesterday() -> str:
    return (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%d")


def test_clean_books_exit_0_and_say_no_differences(paid_order):
    out, status, _ = command("--since", yesterday())

    assert status == 0
    assert out.strip().endswith("0 differences.")


def test_differences_exit_1_and_are_printed_with_their_order_and_fix(stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)  # its events never reach us

    out, status, error = command("--since", yesterday())

    assert status == 1
    assert f"payment_missed: order #{order.pk}, {order.payment_intent_id}" in out
    assert "[fix: apply_event]" in out
    assert "1 differences with Stripe" in error


def test_json_lists_the_differences_for_monitoring(stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)

    out, status, _ = command("--since", yesterday(), "--json")

    report = json.loads(out)
    assert status == 1
    assert (report["status"], report["differences_count"], report["counts"]) == (
        "finished",
        1,
        {"payment_missed": 1},
    )
    [difference] = report["differences"]
    assert (difference["order_id"], difference["fix"], difference["resolved"]) == (
        order.pk,
        "apply_event",
        False,
    )


def test_account_limits_the_run_to_one_seller(stripe_sandbox, paid_order):
    other = sandbox_order(stripe_sandbox)
    pay(other)

    out, status, _ = command("--since", yesterday(), "--account", paid_order.stripe_account_id, "--json")

    assert (status, json.loads(out)["differences_count"]) == (0, 0)
    assert ReconciliationRun.objects.get().account == paid_order.stripe_account_id


@pytest.mark.parametrize(
    "args, words",
    [
        (["--since", "06/12/2026"], "--since must be a date"),
        (["--since", "2999-01-01"], "in the future"),
        (["--account", "cus_123"], "--account must be a connected account id"),
    ],
)
def test_bad_options_are_refused_without_a_run(args, words):
    with pytest.raises(CommandError, match=words):
        call_command("reconcile_stripe", *args, stdout=StringIO())
    assert not ReconciliationRun.objects.exists()


def test_stripe_failing_part_way_exits_2_and_the_next_run_resumes_it(stripe_sandbox, paid_order):
    stripe_sandbox.fail_next("/v1/disputes", status=500, times=3)  # the SDK retries twice

    out, status, error = command("--since", yesterday(), "--json")

    assert status == 2 and "resume" in error
    run = ReconciliationRun.objects.get()
    assert run.status == RunStatus.INTERRUPTED
    assert json.loads(out)["status"] == "interrupted"
    pages_before = run.pages_read

    out, status, _ = command("--since", yesterday())

    run.refresh_from_db()
    assert (status, ReconciliationRun.objects.count(), run.status) == (0, 1, RunStatus.FINISHED)
    # The lists read before the failure are not read again: 4 + 4 + the fees' page in all.
    assert run.pages_read == 9 and pages_before < 9


def paid_at_stripe_only(account, count):
    """`count` payments on the account that no order here knows of (money at Stripe only)."""
    return [
        stripe.PaymentIntent.create(
            amount=1000,
            currency="usd",
            application_fee_amount=100,
            payment_method_types=["card"],
            payment_method="pm_card_visa",
            confirm=True,
            stripe_account=account,
            api_key=settings.STRIPE_SECRET_KEY,
        ).id
        for _ in range(count)
    ]


def test_more_than_100_objects_are_read_in_pages_and_each_found_once(stripe_sandbox):
    account = stripe_sandbox.create_account(onboarded=True)["id"]
    made = paid_at_stripe_only(account, 101)

    run = reconciliation_run(since=timezone.now() - timedelta(days=1), account=account)

    found = set(run.differences.values_list("stripe_object_id", flat=True))
    assert found == set(made)
    cursor = RunCursor.objects.get(run=run, account=account, kind="payment_intent")
    assert cursor.done
    assert run.pages_read == 2 + 2 + 1 + 1 + 2  # PaymentIntents, charges, refunds, disputes, fees


def test_an_interrupted_list_resumes_after_the_last_page_it_read(stripe_sandbox, monkeypatch):
    account = stripe_sandbox.create_account(onboarded=True)["id"]
    paid_at_stripe_only(account, 150)
    read = _Reader.payment_intents

    def fail_after_the_first_page(self, account, intents):
        read(self, account, intents)
        stripe_sandbox.fail_next("/v1/payment_intents", status=500, times=3)

    monkeypatch.setattr(_Reader, "payment_intents", fail_after_the_first_page)
    since = timezone.now() - timedelta(days=1)
    with pytest.raises(RunInterrupted):
        reconciliation_run(since=since, account=account)
    cursor = RunCursor.objects.get(account=account, kind="payment_intent")
    assert cursor.starting_after and not cursor.done
    monkeypatch.setattr(_Reader, "payment_intents", read)

    run = reconciliation_run(since=since, account=account)

    # The first page's 100 PaymentIntents were not read again: 150 of them in all.
    intents_read = run.objects_read - 150 - 150  # charges and fees
    assert (run.status, intents_read, run.differences.count()) == (RunStatus.FINISHED, 150, 150)


def test_a_long_period_is_read_in_weekly_created_windows(paid_order):
    since = datetime.now(UTC) - 3 * WINDOW + timedelta(hours=1)

    run = reconciliation_run(since=since)

    assert run.differences.count() == 0
    windows = 3
    assert run.pages_read == windows * (4 + 4 + 1)  # the platform's lists, the seller's, the fees


def test_a_seller_account_that_left_the_platform_is_skipped_and_named(stripe_sandbox, paid_order):
    stripe_sandbox.disconnect_account(paid_order.stripe_account_id)

    out, status, _ = command("--since", yesterday())

    assert status == 0
    assert f"skipped {paid_order.stripe_account_id}: Stripe no longer lets us read it" in out
    assert ReconciliationRun.objects.get().skipped_accounts == [paid_order.stripe_account_id]
