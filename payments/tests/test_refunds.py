"""POST /payments/orders/<id>/refund/: who may refund, how much, and what the webhook then records."""

import pytest

from accounts.tests.factories import UserFactory
from marketplace.models import ListingStatus
from payments.models import OrderStatus, PaymentStatus
from payments.services.refunds import refund_amount_parse
from payments.tests.factories import PaymentFactory
from payments.tests.webhook_support import deliver, endpoints_register, pay, sandbox_order

pytestmark = pytest.mark.django_db


def refund_url(order):
    return f"/payments/orders/{order.pk}/refund/"


@pytest.fixture
def webhook_sandbox(stripe_sandbox, client):
    return endpoints_register(stripe_sandbox, client)


@pytest.fixture
def paid_order(webhook_sandbox):
    order = sandbox_order(webhook_sandbox, price_cents=5000)
    pay(order)
    deliver(webhook_sandbox)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def stripe_refunds(sandbox, order):
    return [e["data"]["object"] for e in sandbox.events(type="refund.created")
            if e["data"]["object"]["payment_intent"] == order.payment_intent_id]


def test_an_anonymous_visitor_cannot_refund(client, paid_order, webhook_sandbox):
    response = client.post(refund_url(paid_order), {}, content_type="application/json")

    assert response.status_code == 403
    assert stripe_refunds(webhook_sandbox, paid_order) == []


@pytest.mark.parametrize("who", ["stranger", "buyer"])
def test_someone_who_is_not_the_seller_or_staff_learns_nothing(client, paid_order, webhook_sandbox, who):
    client.force_login(UserFactory() if who == "stranger" else paid_order.buyer)

    response = client.post(refund_url(paid_order), {}, content_type="application/json")

    assert response.status_code == 404
    assert stripe_refunds(webhook_sandbox, paid_order) == []


def test_an_unknown_order_is_404(client, paid_order):
    client.force_login(paid_order.seller)

    response = client.post("/payments/orders/999999/refund/", {}, content_type="application/json")

    assert response.status_code == 404


def test_the_refund_route_answers_only_post(client, paid_order):
    client.force_login(paid_order.seller)

    assert client.get(refund_url(paid_order)).status_code == 405


def test_the_seller_refunds_everything_and_the_stub_goes_back_on_sale(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)

    response = client.post(refund_url(paid_order), {}, content_type="application/json")
    deliver(webhook_sandbox)

    assert response.status_code == 201
    body = response.json()
    assert (body["amount"], body["order_id"]) == (5000, paid_order.pk)
    assert body["refund_id"].startswith("re_")
    paid_order.refresh_from_db()
    payment = paid_order.payment
    assert paid_order.status == OrderStatus.REFUNDED and paid_order.refunded_at is not None
    assert paid_order.listing.status == ListingStatus.ACTIVE
    assert (payment.amount_refunded_cents, payment.fee_refunded_cents) == (5000, 500)
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.net_platform_amount_cents == 0 and payment.seller_net_cents == 0
    refund = stripe_refunds(webhook_sandbox, paid_order)[0]
    assert refund["amount"] == 5000
    assert webhook_sandbox.get(refund["charge"])["application_fee"]  # refunded on the seller's charge


def test_a_partial_refund_returns_the_fee_in_proportion(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)

    response = client.post(refund_url(paid_order), {"amount": 1999}, content_type="application/json")
    deliver(webhook_sandbox)

    assert response.status_code == 201
    paid_order.refresh_from_db()
    payment = paid_order.payment
    assert paid_order.status == OrderStatus.PARTIALLY_REFUNDED
    assert paid_order.listing.status == ListingStatus.SOLD
    assert (payment.amount_refunded_cents, payment.fee_refunded_cents) == (1999, 200)
    assert payment.net_platform_amount_cents == 300
    assert payment.seller_net_cents == 5000 - 1999 - 300


def test_partial_refunds_add_up_to_a_full_one(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)

    first = client.post(refund_url(paid_order), {"amount": 1999}, content_type="application/json")
    deliver(webhook_sandbox)
    rest = client.post(refund_url(paid_order), {}, content_type="application/json")
    deliver(webhook_sandbox)

    assert first.status_code == rest.status_code == 201
    assert rest.json()["amount"] == 3001
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED
    assert (paid_order.payment.amount_refunded_cents, paid_order.payment.fee_refunded_cents) == (5000, 500)
    assert paid_order.listing.status == ListingStatus.ACTIVE


def test_the_same_partial_amount_twice_after_the_first_is_recorded_is_a_second_refund(
    client, paid_order, webhook_sandbox
):
    client.force_login(paid_order.seller)

    client.post(refund_url(paid_order), {"amount": 1000}, content_type="application/json")
    deliver(webhook_sandbox)
    client.post(refund_url(paid_order), {"amount": 1000}, content_type="application/json")
    deliver(webhook_sandbox)

    assert [r["amount"] for r in stripe_refunds(webhook_sandbox, paid_order)] == [1000, 1000]
    paid_order.refresh_from_db()
    assert paid_order.payment.amount_refunded_cents == 2000


def test_a_double_click_refunds_once(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)

    first = client.post(refund_url(paid_order), {"amount": 1000}, content_type="application/json")
    second = client.post(refund_url(paid_order), {"amount": 1000}, content_type="application/json")
    deliver(webhook_sandbox)

    assert first.status_code == second.status_code == 201
    assert first.json()["refund_id"] == second.json()["refund_id"]
    assert len(stripe_refunds(webhook_sandbox, paid_order)) == 1
    paid_order.refresh_from_db()
    assert paid_order.payment.amount_refunded_cents == 1000


@pytest.mark.parametrize("amount", [0, -5, "abc", 12.5, True, 5001, "1e3", [100], {"x": 1}])
def test_a_bad_amount_is_400_and_refunds_nothing(client, paid_order, webhook_sandbox, amount):
    client.force_login(paid_order.seller)

    response = client.post(refund_url(paid_order), {"amount": amount}, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_amount"
    assert stripe_refunds(webhook_sandbox, paid_order) == []


def test_a_body_that_is_not_a_json_object_is_400(client, paid_order):
    client.force_login(paid_order.seller)

    for body in ("not json", "[1]"):
        response = client.post(refund_url(paid_order), body, content_type="application/json")
        assert response.status_code == 400


def test_more_than_is_left_is_400_after_a_partial_refund(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)
    client.post(refund_url(paid_order), {"amount": 4000}, content_type="application/json")
    deliver(webhook_sandbox)

    response = client.post(refund_url(paid_order), {"amount": 1001}, content_type="application/json")

    assert response.status_code == 400
    assert "1000" in response.json()["error"]["message"]


def test_an_order_not_paid_yet_cannot_be_refunded(client, webhook_sandbox):
    order = sandbox_order(webhook_sandbox)
    client.force_login(order.seller)

    response = client.post(refund_url(order), {}, content_type="application/json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_refundable"


def test_a_fully_refunded_order_cannot_be_refunded_again(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)
    client.post(refund_url(paid_order), {}, content_type="application/json")
    deliver(webhook_sandbox)

    response = client.post(refund_url(paid_order), {}, content_type="application/json")

    assert response.status_code == 409


def test_a_disputed_order_cannot_be_refunded(client):
    payment = PaymentFactory(order__status=OrderStatus.DISPUTED)
    client.force_login(payment.order.seller)

    response = client.post(refund_url(payment.order), {}, content_type="application/json")

    assert response.status_code == 409


def test_staff_can_refund_any_order(client, paid_order, webhook_sandbox):
    client.force_login(UserFactory(is_staff=True))

    response = client.post(refund_url(paid_order), {"amount": "500"}, content_type="application/json")
    deliver(webhook_sandbox)

    assert response.status_code == 201
    paid_order.refresh_from_db()
    assert paid_order.payment.amount_refunded_cents == 500


def test_a_form_post_refunds_and_goes_back_to_the_order_page(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)

    response = client.post(refund_url(paid_order), {"amount": "700"})
    deliver(webhook_sandbox)

    assert response.status_code == 302
    assert response["Location"] == f"/orders/{paid_order.pk}/"
    paid_order.refresh_from_db()
    assert paid_order.payment.amount_refunded_cents == 700


def test_stripe_failing_is_a_502_and_the_order_is_unchanged(client, paid_order, webhook_sandbox):
    client.force_login(paid_order.seller)
    webhook_sandbox.fail_next("/v1/refunds", status=500, times=3)

    response = client.post(refund_url(paid_order), {}, content_type="application/json")

    assert response.status_code == 502
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PAID


@pytest.mark.parametrize(("given", "expected"), [(None, None), ("", None), (5, 5), ("42", 42), (" 7 ", 7)])
def test_refund_amount_parse_accepts_whole_cents_or_nothing(given, expected):
    assert refund_amount_parse(given) == expected


def test_a_form_post_that_cannot_refund_goes_back_to_the_order_page_with_the_reason(
    client, webhook_sandbox
):
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
