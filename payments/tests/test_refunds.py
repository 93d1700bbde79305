"""Refunds through POST /payments/orders/<id>/refund/ and the sandbox: who may refund how much,
double submits, refunds that stay pending or fail later, and what the webhooks then record."""

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from core.errors import PaymentProviderError
from marketplace.models import ListingStatus
from payments.models import OrderStatus, Refund, RefundStatus
from payments.services.refunds import refund_amount_parse, refund_request
from payments.staff import FINANCE, SUPPORT
from payments.tests.factories import PaymentFactory, staff_member
from payments.tests.webhook_support import deliver, sandbox_order, sandbox_order_paid, sandbox_refunds
from testing import paid_snapshot

pytestmark = pytest.mark.django_db

DAY = 86400


def refund_url(order):
    return f"/payments/orders/{order.pk}/refund/"


def paid(sandbox, *, price_cents=5000, card="pm_card_visa", funds_available=True):
    """Paid, and by default past the payout delay: refunds go through at once (as long as they do
    not ask more than the sale left: see the pending tests)."""
    order = sandbox_order_paid(sandbox, price_cents=price_cents, card=card, funds_available=funds_available)
    assert order.status == OrderStatus.PAID
    return order


def _paid_order_build(sandbox) -> int:
    return paid(sandbox).pk


@pytest.fixture
@paid_snapshot.shared(_paid_order_build)
def paid_order(webhook_sandbox, client, request):
    """`paid` once for the tests that take it (testing/paid_snapshot.py)."""
    return paid_snapshot.take(request, webhook_sandbox, client, _paid_order_build)


def post_refund(client, order, body=None, **headers):
    return client.post(refund_url(order), body or {}, content_type="application/json", **headers)


def refunded_in_full_by_the_seller(client, sandbox, *, card="pm_card_visa"):
    """A $20.00 order the seller refunded in full through the route, the refund succeeded at
    Stripe (at once when the seller's available balance covers it, else once settled) and its
    webhooks delivered; the order and its listing as they are then. A refund-failure card's
    refund has not failed yet: that is Stripe's "some time later", the next settle_refunds."""
    order = paid(sandbox, card=card, price_cents=2000)
    client.force_login(order.seller)
    post_refund(client, order)
    refund = order.refunds.get()
    if refund.status == RefundStatus.PENDING:  # short of funds: settled as if the seller added some
        sandbox.settle_refunds(refund.stripe_refund_id)
    deliver(sandbox)
    order.listing.refresh_from_db()
    return order


def settle_and_deliver(sandbox):
    sandbox.settle_refunds()
    deliver(sandbox)


# -- who may refund ----------------------------------------------------------------------------


def test_an_anonymous_visitor_cannot_refund(client, paid_order, webhook_sandbox):
    assert post_refund(client, paid_order).status_code == 403
    assert sandbox_refunds(webhook_sandbox, paid_order) == []


@pytest.mark.parametrize("who", ["stranger", "buyer"])
def test_someone_who_is_not_the_seller_or_staff_learns_nothing(client, paid_order, webhook_sandbox, who):
    client.force_login(UserFactory() if who == "stranger" else paid_order.buyer)

    assert post_refund(client, paid_order).status_code == 404
    assert sandbox_refunds(webhook_sandbox, paid_order) == []


def test_staff_without_the_refund_permission_is_refused_by_the_json_route(
    client, paid_order, webhook_sandbox
):
    # is_staff alone used to be enough (201); every refund path now runs the same check.
    client.force_login(staff_member())

    response = post_refund(client, paid_order, {"amount": 500})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "refund_not_allowed"
    assert sandbox_refunds(webhook_sandbox, paid_order) == []
    assert not Refund.objects.exists()


def test_support_refunds_up_to_its_limit_and_sends_more_to_finance(client, paid_order, webhook_sandbox,
                                                                   settings):
    settings.SUPPORT_REFUND_LIMIT_CENTS = 1000
    order = paid_order
    client.force_login(staff_member(SUPPORT))

    above = post_refund(client, order, {"amount": 1001})
    within = post_refund(client, order, {"amount": 1000})

    assert above.status_code == 202
    assert above.json()["status"] == "awaiting_approval"
    assert "$10.01 sent to Finance for approval" in above.json()["message"]
    assert "$10.00" in above.json()["message"]
    assert within.status_code == 201
    assert [r["amount"] for r in sandbox_refunds(webhook_sandbox, order)] == [1000]


def test_support_cannot_refund_everything_left_when_it_is_above_the_limit(client, paid_order, webhook_sandbox,
                                                                          settings):
    settings.SUPPORT_REFUND_LIMIT_CENTS = 1000
    order = paid_order
    client.force_login(staff_member(SUPPORT))

    assert post_refund(client, order).status_code == 202
    assert sandbox_refunds(webhook_sandbox, order) == []


def test_finance_refunds_any_amount(client, paid_order, webhook_sandbox, settings):
    settings.SUPPORT_REFUND_LIMIT_CENTS = 100
    client.force_login(staff_member(FINANCE))

    response = post_refund(client, paid_order)
    deliver(webhook_sandbox)

    assert response.status_code == 201
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED


def test_an_unknown_order_is_404(client, paid_order):
    client.force_login(paid_order.seller)

    assert (
        client.post("/payments/orders/999999/refund/", {}, content_type="application/json").status_code == 404
    )


def test_the_refund_route_answers_only_post(client, paid_order):
    client.force_login(paid_order.seller)

    assert client.get(refund_url(paid_order)).status_code == 405


# -- amounts -----------------------------------------------------------------------------------


def test_the_seller_refunds_everything_and_the_stub_goes_back_on_sale(client, webhook_sandbox):
    order = paid(webhook_sandbox, price_cents=2000)
    client.force_login(order.seller)

    response = post_refund(client, order)
    # The sale alone cannot cover its whole refund (Stripe kept its processing fee): it waits
    # until the seller's balance can; here the funds "arrive".
    webhook_sandbox.settle_refunds(order.refunds.get().stripe_refund_id)
    deliver(webhook_sandbox)

    assert response.status_code == 201
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert (order.payment.amount_refunded_cents, order.payment.fee_refunded_cents) == (2000, 200)
    assert order.listing.status == ListingStatus.ACTIVE
    refund = order.refunds.get()
    assert (refund.status, refund.reason, refund.requested_by) == (
        RefundStatus.SUCCEEDED,
        "requested_by_customer",
        order.seller,
    )


def test_two_partial_refunds_then_the_rest(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)

    post_refund(client, paid_order, {"amount": 1000})
    post_refund(client, paid_order, {"amount": 1500, "reason": "duplicate"})
    deliver(webhook_sandbox)
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PARTIALLY_REFUNDED
    rest = post_refund(client, paid_order)
    deliver(webhook_sandbox)

    assert rest.json()["amount"] == 2500
    assert [r["amount"] for r in sandbox_refunds(webhook_sandbox, paid_order)] == [1000, 1500, 2500]
    paid_order.refresh_from_db()
    assert paid_order.payment.amount_refunded_cents == 5000
    # The fee comes back in proportion, and in full by the last refund: 100 + 150 + 250.
    assert paid_order.payment.fee_refunded_cents == 500
    assert paid_order.status == OrderStatus.REFUNDED
    assert sorted(paid_order.refunds.values_list("reason", flat=True)) == [
        "duplicate",
        "requested_by_customer",
        "requested_by_customer",
    ]


@pytest.mark.parametrize("amount", [0, -5, "abc", 12.5, True, 5001, "1e3", [100], {"x": 1}])
def test_a_bad_amount_is_400_and_refunds_nothing(client, paid_order, webhook_sandbox, amount):
    client.force_login(paid_order.seller)

    response = post_refund(client, paid_order, {"amount": amount})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_amount"
    assert sandbox_refunds(webhook_sandbox, paid_order) == []


@pytest.mark.parametrize("reason", ["because", 5, "expired_uncaptured_charge"])
def test_a_reason_not_on_stripes_list_is_400(client, paid_order, reason):
    client.force_login(paid_order.seller)

    response = post_refund(client, paid_order, {"reason": reason})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_reason"


def test_a_body_that_is_not_a_json_object_is_400(client, paid_order):
    client.force_login(paid_order.seller)

    for body in ("not json", "[1]"):
        assert client.post(refund_url(paid_order), body, content_type="application/json").status_code == 400


def test_more_than_is_left_is_400_after_a_partial_refund(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)
    post_refund(client, paid_order, {"amount": 4000})

    response = post_refund(client, paid_order, {"amount": 1001})

    assert response.status_code == 400
    assert "$10.00" in response.json()["error"]["message"]


def test_an_order_not_paid_yet_cannot_be_refunded(client, webhook_sandbox):
    order = sandbox_order(webhook_sandbox)
    client.force_login(order.seller)

    response = post_refund(client, order)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_refundable"


def test_a_fully_refunded_order_cannot_be_refunded_again(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)
    post_refund(client, paid_order, {"amount": 5000})
    deliver(webhook_sandbox)

    response = client.post(refund_url(paid_order), {"amount": 100}, content_type="application/json")

    assert response.status_code == 409


def test_a_disputed_order_is_refused_with_the_reason(client):
    payment = PaymentFactory(order__status=OrderStatus.DISPUTED)
    client.force_login(payment.order.seller)

    response = post_refund(client, payment.order)

    assert response.status_code == 409
    assert "disputed" in response.json()["error"]["message"]
    assert "Answer the dispute" in response.json()["error"]["message"]


# -- double submits ----------------------------------------------------------------------------


def test_a_double_click_refunds_once(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)

    first = post_refund(client, paid_order, {"amount": 1000})
    deliver(webhook_sandbox)  # the webhook lands between the clicks: it must not matter
    second = post_refund(client, paid_order, {"amount": 1000})
    deliver(webhook_sandbox)

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert len(sandbox_refunds(webhook_sandbox, paid_order)) == 1
    paid_order.refresh_from_db()
    assert paid_order.payment.amount_refunded_cents == 1000


def test_refund_everything_clicked_twice_is_one_refund(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)

    first = post_refund(client, paid_order)
    deliver(webhook_sandbox)
    second = post_refund(client, paid_order)

    assert second.status_code == 201
    assert first.json()["id"] == second.json()["id"]


def test_the_same_idempotency_key_is_the_same_refund_and_a_new_one_is_a_new_refund(
    client, paid_order, webhook_sandbox
):
    client.force_login(paid_order.seller)

    first = post_refund(client, paid_order, {"amount": 700}, HTTP_IDEMPOTENCY_KEY="abc")
    again = post_refund(client, paid_order, {"amount": 700}, HTTP_IDEMPOTENCY_KEY="abc")
    other = post_refund(client, paid_order, {"amount": 700}, HTTP_IDEMPOTENCY_KEY="def")

    assert first.json()["id"] == again.json()["id"] != other.json()["id"]
    assert [r["amount"] for r in sandbox_refunds(webhook_sandbox, paid_order)] == [700, 700]


@pytest.mark.parametrize("headers, body", [
    ({"HTTP_IDEMPOTENCY_KEY": "a\x00b"}, {"amount": 700}),
    ({"HTTP_IDEMPOTENCY_KEY": "caf\u00e9"}, {"amount": 700}),
    ({}, {"amount": 700, "buyer_note": "a\x00b"}),
])
def test_a_key_or_note_that_cannot_be_stored_is_a_400_and_no_refund(
    client, paid_order, webhook_sandbox, headers, body
):
    client.force_login(paid_order.seller)

    response = post_refund(client, paid_order, body, **headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid_idempotency_key", "invalid_note")
    assert not paid_order.refunds.exists()
    assert sandbox_refunds(webhook_sandbox, paid_order) == []


def test_the_same_amount_again_after_the_double_submit_window_is_a_second_refund(
    client, paid_order, webhook_sandbox
):
    client.force_login(paid_order.seller)
    first = post_refund(client, paid_order, {"amount": 1000})
    Refund.objects.filter(pk=first.json()["id"]).update(created_at="2000-01-01T00:00:00Z")

    second = post_refund(client, paid_order, {"amount": 1000})
    deliver(webhook_sandbox)

    assert first.json()["id"] != second.json()["id"]
    paid_order.refresh_from_db()
    assert paid_order.payment.amount_refunded_cents == 2000


# -- Stripe failing, refusing, and answering late -----------------------------------------------


def test_stripe_failing_is_a_502_the_row_waits_and_a_retry_uses_a_new_key(
    client, paid_order, webhook_sandbox
):
    client.force_login(paid_order.seller)
    webhook_sandbox.fail_next("/v1/refunds", status=500, times=3, method="POST")

    failed = post_refund(client, paid_order, {"amount": 1000})

    assert failed.status_code == 502
    refund = Refund.objects.get()
    assert (refund.status, refund.stripe_refund_id, refund.attempt) == (RefundStatus.PENDING, "", 1)
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PAID

    again = post_refund(client, paid_order, {"amount": 1000})
    deliver(webhook_sandbox)

    assert again.status_code == 201 and again.json()["id"] == refund.pk
    refund.refresh_from_db()
    # Stripe kept the 500 for the first key; the second attempt has a key of its own.
    assert (refund.attempt, refund.status) == (2, RefundStatus.SUCCEEDED)
    assert len(sandbox_refunds(webhook_sandbox, paid_order)) == 1


def test_a_timeout_after_stripe_made_the_refund_is_not_a_second_refund(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)
    # Stripe makes the refund but the answers are lost (all three tries of the SDK).
    webhook_sandbox.fail_next(
        "/v1/refunds", exception="timeout", times=3, method="POST", after_processing=True
    )

    assert post_refund(client, paid_order, {"amount": 1000}).status_code == 502
    again = post_refund(client, paid_order, {"amount": 1000})
    deliver(webhook_sandbox)

    assert again.status_code == 201
    refund = Refund.objects.get()
    assert refund.attempt == 1  # found on Stripe by its row id: no new attempt, no new refund
    assert len(sandbox_refunds(webhook_sandbox, paid_order)) == 1
    paid_order.refresh_from_db()
    assert paid_order.payment.amount_refunded_cents == 1000


def test_a_refund_stripe_refuses_is_409_with_stripes_reason(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)
    # Someone refunded part of it elsewhere (the Express dashboard) and we have not heard yet.
    import stripe

    stripe.Refund.create(
        payment_intent=paid_order.payment_intent_id, amount=4500, stripe_account=paid_order.stripe_account_id
    )

    response = post_refund(client, paid_order, {"amount": 1000})

    assert response.status_code == 409
    assert "greater than unrefunded amount" in response.json()["error"]["message"]
    assert Refund.objects.get(requested_by=paid_order.seller).status == RefundStatus.FAILED
    deliver(webhook_sandbox)
    paid_order.refresh_from_db()
    # The dashboard's refund is on record, with a row of its own.
    assert paid_order.payment.amount_refunded_cents == 4500
    assert paid_order.refunds.filter(requested_by=None, amount_cents=4500).exists()


def test_the_webhook_arriving_after_the_api_answer_changes_nothing_more(paid_order, webhook_sandbox):
    refund = refund_request(order_id=paid_order.pk, actor=paid_order.seller, amount_cents=1200)
    assert refund.status == RefundStatus.SUCCEEDED  # recorded from Stripe's answer
    business = paid_order.audit_events.exclude(action__startswith="stripe.")
    told_before = list(business.values_list("action", flat=True))

    deliver(webhook_sandbox)

    assert paid_order.refunds.count() == 1
    paid_order.refresh_from_db()
    assert paid_order.payment.amount_refunded_cents == 1200
    assert paid_order.status == OrderStatus.PARTIALLY_REFUNDED
    assert list(business.values_list("action", flat=True)) == told_before  # nothing said twice


def test_the_webhook_before_our_row_knows_its_stripe_id_still_finds_the_row(paid_order, webhook_sandbox):
    # Our process dies after Stripe made the refund, before the answer was recorded.
    webhook_sandbox.fail_next(
        "/v1/refunds", exception="timeout", times=3, method="POST", after_processing=True
    )
    with pytest.raises(PaymentProviderError):
        refund_request(order_id=paid_order.pk, actor=paid_order.seller, amount_cents=800)

    deliver(webhook_sandbox)  # charge.refunded: matched by the refund_row_id in metadata

    assert paid_order.refunds.count() == 1
    refund = paid_order.refunds.get()
    assert refund.stripe_refund_id and refund.status == RefundStatus.SUCCEEDED


# -- refunds that wait, and refunds that fail later --------------------------------------------


def test_a_pending_refund_counts_but_the_stub_goes_back_on_sale_only_when_it_succeeds(
    client, webhook_sandbox, django_capture_on_commit_callbacks
):
    order = paid(webhook_sandbox, funds_available=False)
    client.force_login(order.seller)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_refund(client, order)
        deliver(webhook_sandbox)

    assert response.json()["status"] == RefundStatus.PENDING
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED  # the money is promised back
    assert order.listing.status == ListingStatus.SOLD  # but the stub is not free yet
    assert any("is pending" in m.subject for m in mail.outbox)

    refund = order.refunds.get()
    webhook_sandbox.settle_refunds(refund.stripe_refund_id)  # the seller's funds arrived
    with django_capture_on_commit_callbacks(execute=True):
        deliver(webhook_sandbox)

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert order.listing.status == ListingStatus.ACTIVE
    assert any("refunded to your card" in m.subject for m in mail.outbox)


def test_a_pending_refund_settles_when_time_makes_the_balance_cover_it(client, webhook_sandbox):
    order = paid(webhook_sandbox, funds_available=False)
    client.force_login(order.seller)

    post_refund(client, order, {"amount": 3000})
    deliver(webhook_sandbox)
    assert order.refunds.get().status == RefundStatus.PENDING
    webhook_sandbox.advance_time(8 * DAY)
    deliver(webhook_sandbox)

    assert order.refunds.get().status == RefundStatus.SUCCEEDED
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED


def test_a_refund_that_fails_later_puts_the_order_back_and_takes_the_stub_off_sale(
    client, webhook_sandbox, django_capture_on_commit_callbacks
):
    order = paid(webhook_sandbox, card="pm_card_refundFail", price_cents=2000)
    # Enough money in the seller's balance for the whole refund: it succeeds at first.
    webhook_sandbox.settle_refunds()
    client.force_login(order.seller)
    staff_user = staff_member(FINANCE)
    staff_user.email = "finance@example.test"
    staff_user.save()
    response = post_refund(client, order)
    refund = order.refunds.get()
    if response.json()["status"] == RefundStatus.PENDING:
        webhook_sandbox.settle_refunds(refund.stripe_refund_id)
    deliver(webhook_sandbox)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.listing.status == ListingStatus.ACTIVE
    mail.outbox.clear()

    webhook_sandbox.settle_refunds()  # "some time later": Stripe fails the refund
    with django_capture_on_commit_callbacks(execute=True):
        deliver(webhook_sandbox)

    refund.refresh_from_db()
    order.refresh_from_db()
    assert (refund.status, refund.failure_reason) == (RefundStatus.FAILED, "expired_or_canceled_card")
    assert order.status == OrderStatus.PAID
    assert order.payment.amount_refunded_cents == 0
    assert order.listing.status == ListingStatus.SOLD
    failed = [m for m in mail.outbox if "failed" in m.subject]
    assert {m.to[0] for m in failed} == {order.seller.email, "finance@example.test"}
    assert "$20.00" in failed[0].body


def test_a_refund_that_fails_after_the_stub_sold_again_flags_the_order_for_staff(client, webhook_sandbox):
    order = refunded_in_full_by_the_seller(client, webhook_sandbox, card="pm_card_refundFail")
    assert order.listing.status == ListingStatus.ACTIVE
    order.listing.status = ListingStatus.SOLD  # bought by someone else meanwhile
    order.listing.save(update_fields=["status"])

    webhook_sandbox.settle_refunds()
    deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert "refund failed" in order.attention_reason.lower()
    assert order.audit_events.filter(action="order.needs_attention").exists()


# -- the order page's form ---------------------------------------------------------------------


def test_the_sellers_form_asks_first_with_the_amount_as_read(client, webhook_sandbox):
    order = paid(webhook_sandbox, price_cents=13550)
    client.force_login(order.seller)

    response = client.post(refund_url(order), {"amount": "1.50", "reason": "duplicate", "refund_token": "t"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Refund $1.50 of $135.50?" in page
    assert 'name="amount" value="1.50"' in page and 'name="refund_token" value="t"' in page
    assert sandbox_refunds(webhook_sandbox, order) == []


def test_a_thousands_separator_is_read_as_one_and_a_misplaced_comma_is_refused(client, webhook_sandbox):
    order = paid(webhook_sandbox, price_cents=200000)
    client.force_login(order.seller)

    grouped = client.post(refund_url(order), {"amount": "1,500.00"})
    misplaced = client.post(refund_url(order), {"amount": "1,50"}, follow=True)

    assert "Refund $1,500.00 of $2,000.00?" in grouped.content.decode()
    assert "commas only between thousands" in str(list(misplaced.context["messages"])[0])
    assert not Refund.objects.exists()


def test_a_stranger_gets_no_confirmation_page(client, paid_order):
    client.force_login(UserFactory())

    assert client.post(refund_url(paid_order), {"amount": "1.00"}).status_code == 404


def test_a_form_post_takes_dollars_and_goes_back_to_the_order_page(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)

    response = client.post(
        refund_url(paid_order),
        {"amount": "10.00", "reason": "requested_by_customer", "refund_token": "t1", "confirm": "1"},
    )
    deliver(webhook_sandbox)

    assert response.status_code == 302
    assert response["Location"] == f"/orders/{paid_order.pk}/"
    paid_order.refresh_from_db()
    assert paid_order.payment.amount_refunded_cents == 1000


def test_the_same_form_submitted_twice_is_one_refund(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)

    for _ in range(2):
        client.post(refund_url(paid_order), {"amount": "5", "refund_token": "same-form", "confirm": "1"})

    assert [r["amount"] for r in sandbox_refunds(webhook_sandbox, paid_order)] == [500]


@pytest.mark.parametrize("typed", ["10.001", "-1", "ten", "1e2", "1,50", "1,5000", "1.500,00"])
def test_a_form_amount_that_is_not_dollars_is_refused_on_the_order_page(client, paid_order, typed):
    client.force_login(paid_order.seller)

    response = client.post(refund_url(paid_order), {"amount": typed}, follow=True)

    assert response.redirect_chain == [(f"/orders/{paid_order.pk}/", 302)]
    assert "dollars" in str(list(response.context["messages"])[0])
    assert not Refund.objects.exists()


@pytest.mark.parametrize(("given", "expected"), [(None, None), ("", None), (5, 5), ("42", 42), (" 7 ", 7)])
def test_refund_amount_parse_accepts_whole_cents_or_nothing(given, expected):
    assert refund_amount_parse(given) == expected


def test_a_form_post_that_cannot_refund_goes_back_to_the_order_page_with_the_reason(client, webhook_sandbox):
    order = sandbox_order(webhook_sandbox)
    client.force_login(order.seller)

    response = client.post(refund_url(order), {"amount": ""}, follow=True)

    assert response.redirect_chain == [(f"/orders/{order.pk}/", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        f"Order #{order.pk} is awaiting payment; only a paid order can be refunded."
    ]


def test_a_strangers_form_post_is_still_404(client, paid_order):
    client.force_login(UserFactory())

    assert client.post(refund_url(paid_order), {"amount": ""}).status_code == 404


def test_the_timeline_speaks_dollars_and_words(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)
    post_refund(client, paid_order, {"amount": 1000})
    deliver(webhook_sandbox)

    seller_page = client.get(f"/orders/{paid_order.pk}/").content.decode()
    client.force_login(paid_order.buyer)
    buyer_page = client.get(f"/orders/{paid_order.pk}/").content.decode()

    assert "Refund of $10.00 sent to the buyer&#x27;s card" in seller_page
    assert "Refund of $10.00 sent to your card" in buyer_page
    assert "cents" not in seller_page + buyer_page


def test_the_sellers_order_page_offers_a_refund_in_dollars_and_the_buyer_sees_it_pending(
    client, webhook_sandbox
):
    order = paid(webhook_sandbox, funds_available=False)
    client.force_login(order.seller)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'name="refund_token"' in page and "Amount in dollars" in page and "$50.00" in page

    form = {"amount": "50.00", "reason": "duplicate", "refund_token": "x", "confirm": "1"}
    client.post(refund_url(order), form)
    deliver(webhook_sandbox)
    client.force_login(order.buyer)
    buyer_page = client.get(f"/orders/{order.pk}/").content.decode()

    assert 'id="refund-pending"' in buyer_page
    assert "Refund of $50.00 on its way" in buyer_page
    assert 'id="order-status-badge">Refund pending<' in buyer_page
    assert 'name="refund_token"' not in buyer_page
