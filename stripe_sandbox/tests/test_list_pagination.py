"""The lists a reconciliation reads, as Stripe documents them: pages of at most 100, newest
first, `starting_after` cursors, `created` windows (https://docs.stripe.com/api/pagination), and
an application fee's refunds (https://docs.stripe.com/api/fee_refunds/list)."""

import pytest
import stripe

from .conftest import pay


def every_page(list_method, **params):
    """Page through a list by hand with `starting_after`, as a resumable reader does."""
    pages, cursor = [], None
    while True:
        page = list_method(limit=100, **({"starting_after": cursor} if cursor else {}), **params)
        pages.append([item.id for item in page.data])
        if not page.has_more:
            return pages
        cursor = page.data[-1].id


def test_a_list_of_more_than_100_payment_intents_comes_in_pages_of_100_newest_first(stripe_sandbox, seller):
    made = [
        stripe.PaymentIntent.create(
            amount=100 + n, currency="usd", payment_method_types=["card"], stripe_account=seller["id"]
        ).id
        for n in range(101)
    ]

    pages = every_page(stripe.PaymentIntent.list, stripe_account=seller["id"])

    assert [len(page) for page in pages] == [100, 1]
    assert [pi for page in pages for pi in page] == list(reversed(made))


def test_created_windows_split_a_list_without_losing_or_repeating_an_object(stripe_sandbox, seller):
    early = pay(seller["id"])
    stripe_sandbox.advance_time(3600)
    late = pay(seller["id"])
    boundary = late.created

    before = stripe.Charge.list(created={"lt": boundary}, stripe_account=seller["id"], limit=100)
    after = stripe.Charge.list(created={"gte": boundary}, stripe_account=seller["id"], limit=100)

    assert [c.payment_intent for c in before.data] == [early.id]
    assert [c.payment_intent for c in after.data] == [late.id]
    fees = stripe.ApplicationFee.list(created={"gte": boundary}, limit=100)
    assert [fee.charge for fee in fees.data] == [late.latest_charge]


def test_refunds_and_disputes_are_listed_by_created_window_on_the_connected_account(stripe_sandbox, seller):
    refunded = pay(seller["id"])
    refund = stripe.Refund.create(payment_intent=refunded.id, amount=1000, stripe_account=seller["id"])
    disputed = pay(seller["id"])
    dispute = stripe_sandbox.open_dispute(disputed.latest_charge)
    window = {"gte": refund.created, "lt": refund.created + 86400}

    refunds = stripe.Refund.list(created=window, stripe_account=seller["id"], limit=100)
    disputes = stripe.Dispute.list(created=window, stripe_account=seller["id"], limit=100)

    assert [r.id for r in refunds.data] == [refund.id]
    assert [d.id for d in disputes.data] == [dispute["id"]]
    assert stripe.Refund.list(limit=100).data == []  # the platform has none of its own


def test_an_application_fee_carries_its_10_newest_refunds_and_the_list_pages_through_all(
    stripe_sandbox, seller
):
    pi = pay(seller["id"], amount=5000, fee=1200)
    fee_id = stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"]).application_fee
    made = [stripe.ApplicationFee.create_refund(fee_id, amount=100).id for _ in range(12)]

    fee = stripe.ApplicationFee.retrieve(fee_id)
    assert (len(fee.refunds.data), fee.refunds.has_more, fee.refunds.total_count) == (10, True, 12)
    assert [r.id for r in fee.refunds.data] == list(reversed(made))[:10]

    first = stripe.ApplicationFee.list_refunds(fee_id, limit=5)
    rest = stripe.ApplicationFee.list_refunds(fee_id, limit=100, starting_after=first.data[-1].id)
    assert (len(first.data), first.has_more, first.url) == (5, True, f"/v1/application_fees/{fee_id}/refunds")
    assert [r.id for r in [*first.data, *rest.data]] == list(reversed(made))
    assert rest.has_more is False


def test_the_fee_refunds_list_takes_no_created_filter(stripe_sandbox, seller):
    pi = pay(seller["id"])
    fee_id = stripe.Charge.retrieve(pi.latest_charge, stripe_account=seller["id"]).application_fee

    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.ApplicationFee.list_refunds(fee_id, created={"gte": 0})

    assert refused.value.param == "created"


def test_a_cursor_that_is_not_in_the_list_is_refused_as_stripe_does(stripe_sandbox, seller):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.PaymentIntent.list(starting_after="pi_unknown", stripe_account=seller["id"])

    assert refused.value.param == "starting_after"
