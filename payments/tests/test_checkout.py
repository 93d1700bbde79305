"""POST /payments/create-payment-intent/ and the checkout service, through the Stripe sandbox."""

import json

import pytest
import stripe
from django.urls import reverse

from accounts.tests.factories import NewSellerFactory, UserFactory
from marketplace.models import ListingStatus
from marketplace.pricing import platform_fee_cents
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent, Order, OrderStatus
from payments.services.checkout import checkout_start
from payments.services.orders import order_transition
from payments.tests.checkout_support import checkout_post
from payments.tests.factories import shipping_address
from payments.tests.webhook_support import deliver

pytestmark = pytest.mark.django_db

URL = "/payments/create-payment-intent/"

@pytest.fixture
def buyer_client(client, buyer):
    client.force_login(buyer)
    return client


def intents_on(account_id):
    return stripe.PaymentIntent.list(stripe_account=account_id).data


# -- the happy path ------------------------------------------------------------------------


def test_checkout_opens_a_pending_order_reserves_the_listing_and_creates_the_intent_on_the_seller_account(
    buyer_client, buyer, listing, seller, stripe_sandbox
):
    response = checkout_post(buyer_client, listing.pk)

    assert response.status_code == 200
    data = response.json()
    order = Order.objects.get()
    assert data["order_id"] == order.pk
    assert data["amount"] == 5000
    assert "application_fee_amount" not in data  # the buyer's answer: between the seller and us
    assert order.application_fee_cents == platform_fee_cents(5000) == 500
    assert data["currency"] == "usd"
    assert data["stripe_account"] == seller.stripe_account_id
    assert data["publishable_key"] == "pk_test_sandbox"
    assert data["return_url"].endswith(f"/orders/{order.pk}/?checkout=1")
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert (order.buyer, order.seller, order.amount_cents, order.application_fee_cents) == (
        buyer,
        seller,
        5000,
        500,
    )
    assert order.shipping_name == "Ada Lovelace" and order.shipping_postal_code == "62701"
    listing.refresh_from_db()
    assert listing.status == ListingStatus.RESERVED and listing.reserved_by == buyer
    assert order.reserved_until == listing.reserved_until

    intent = stripe.PaymentIntent.retrieve(order.payment_intent_id, stripe_account=seller.stripe_account_id)
    assert data["client_secret"] == intent.client_secret
    assert (intent.amount, intent.currency, intent.application_fee_amount) == (5000, "usd", 500)
    assert intent.metadata["order_id"] == str(order.pk)
    assert intent.receipt_email == "buyer@example.com"
    assert f"#{order.pk}" in intent.description
    assert intent.status == "requires_payment_method"
    audit = AuditEvent.objects.get(action="stripe.payment_intent.create")
    assert audit.data["idempotency_key"].endswith(f"-order-{order.pk}-payment_intent-create")
    assert audit.data["stripe_account"] == seller.stripe_account_id


def test_the_intent_is_not_on_the_platform_account(buyer_client, listing):
    checkout_post(buyer_client, listing.pk)
    assert stripe.PaymentIntent.list().data == []


def test_a_visa_card_confirms_the_intent(buyer_client, listing, seller):
    data = checkout_post(buyer_client, listing.pk).json()
    order = Order.objects.get(pk=data["order_id"])

    intent = stripe.PaymentIntent.confirm(
        order.payment_intent_id, payment_method="pm_card_visa", stripe_account=seller.stripe_account_id
    )

    assert intent.status == "succeeded" and intent.amount_received == 5000


def test_a_declined_card_leaves_the_order_unpaid_and_the_buyer_can_try_another_card(
    buyer_client, listing, seller
):
    data = checkout_post(buyer_client, listing.pk).json()
    order = Order.objects.get(pk=data["order_id"])
    acct = seller.stripe_account_id

    with pytest.raises(stripe.CardError):
        stripe.PaymentIntent.confirm(
            order.payment_intent_id, payment_method="pm_card_chargeDeclined", stripe_account=acct
        )

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    again = checkout_post(buyer_client, listing.pk)
    assert again.status_code == 200
    assert again.json()["client_secret"] == data["client_secret"]  # same PaymentIntent, still payable
    intent = stripe.PaymentIntent.confirm(
        order.payment_intent_id, payment_method="pm_card_visa", stripe_account=acct
    )
    assert intent.status == "succeeded"


def test_after_a_decline_closed_the_order_the_next_attempt_opens_a_new_order_and_intent(
    buyer_client, buyer, listing, seller
):
    """What the payment_failed webhook may do (order payment_failed, hold released); paying
    again must still work."""
    first = checkout_post(buyer_client, listing.pk).json()
    acct = seller.stripe_account_id
    with pytest.raises(stripe.CardError):
        stripe.PaymentIntent.confirm(
            Order.objects.get().payment_intent_id,
            payment_method="pm_card_chargeDeclined",
            stripe_account=acct,
        )
    failed = Order.objects.get()
    order_transition(order=failed, to=OrderStatus.PAYMENT_FAILED)
    from marketplace.services import listing_release

    listing_release(listing_id=listing.pk, buyer=buyer)

    second = checkout_post(buyer_client, listing.pk)

    assert second.status_code == 200
    data = second.json()
    assert data["order_id"] != first["order_id"] and data["client_secret"] != first["client_secret"]
    new_order = Order.objects.get(pk=data["order_id"])
    intent = stripe.PaymentIntent.confirm(
        new_order.payment_intent_id, payment_method="pm_card_visa", stripe_account=acct
    )
    assert intent.status == "succeeded"


def test_a_decline_then_a_success_within_the_hold_make_one_order_with_one_payment_intent(
    webhook_sandbox, buyer, listing, seller, django_capture_on_commit_callbacks
):
    acct = seller.stripe_account_id
    first = checkout_start(listing_id=listing.pk, buyer=buyer, shipping=shipping_address())
    with pytest.raises(stripe.CardError):
        stripe.PaymentIntent.confirm(
            first.order.payment_intent_id, payment_method="pm_card_chargeDeclined", stripe_account=acct
        )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(webhook_sandbox)  # payment_intent.payment_failed while the hold lasts

    again = checkout_start(listing_id=listing.pk, buyer=buyer, shipping=shipping_address())
    stripe.PaymentIntent.confirm(
        again.order.payment_intent_id, payment_method="pm_card_visa", stripe_account=acct
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(webhook_sandbox)

    assert not again.created and again.order.pk == first.order.pk
    order = Order.objects.get(buyer=buyer)
    assert order.status == OrderStatus.PAID and order.payment_failures == 1
    assert [intent.id for intent in intents_on(acct)] == [order.payment_intent_id]
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SOLD


def test_the_three_d_secure_card_asks_for_authentication(buyer_client, listing, seller, stripe_sandbox):
    data = checkout_post(buyer_client, listing.pk).json()
    order = Order.objects.get(pk=data["order_id"])

    intent = stripe.PaymentIntent.confirm(
        order.payment_intent_id,
        payment_method="pm_card_threeDSecure2Required",
        stripe_account=seller.stripe_account_id,
        return_url="http://testserver/orders/1/",
    )

    assert intent.status == "requires_action"
    assert stripe_sandbox.complete_3ds(intent.id)["status"] == "succeeded"


# -- retries and double clicks -------------------------------------------------------------


def test_asking_again_returns_the_same_order_and_the_same_single_intent(buyer_client, listing, seller):
    first = checkout_post(buyer_client, listing.pk).json()
    second = checkout_post(buyer_client, listing.pk, shipping_city="Shelbyville").json()

    assert second["order_id"] == first["order_id"]
    assert second["client_secret"] == first["client_secret"]
    assert Order.objects.count() == 1
    assert Order.objects.get().shipping_city == "Shelbyville"  # the newer address wins
    assert len(intents_on(seller.stripe_account_id)) == 1


def test_a_timeout_retried_by_the_sdk_creates_one_intent(buyer_client, listing, seller, stripe_sandbox):
    """The first attempt is lost on the way back; the SDK retries with the same idempotency key."""
    stripe_sandbox.fail_next("/v1/payment_intents", exception="timeout", times=1, method="POST")

    response = checkout_post(buyer_client, listing.pk)

    assert response.status_code == 200
    assert len(intents_on(seller.stripe_account_id)) == 1


# -- what the buyer cannot do --------------------------------------------------------------


def test_a_seller_cannot_buy_their_own_listing(client, listing, seller):
    client.force_login(seller)

    response = checkout_post(client, listing.pk)

    assert response.status_code == 409
    assert response.json()["error"]["message"] == "This is your own listing; you cannot buy it."
    assert not Order.objects.exists()
    assert intents_on(seller.stripe_account_id) == []


def test_a_price_sent_by_the_client_is_ignored(buyer_client, listing, seller):
    response = checkout_post(
        buyer_client, listing.pk, amount=1, price_cents=1, application_fee_amount=0, currency="eur"
    )

    assert response.status_code == 200
    assert response.json()["amount"] == 5000
    intent = intents_on(seller.stripe_account_id)[0]
    assert (intent.amount, intent.application_fee_amount, intent.currency) == (5000, 500, "usd")


def test_a_listing_reserved_by_another_buyer_is_refused_with_a_clear_message(client, listing, seller):
    first = UserFactory()
    client.force_login(first)
    checkout_post(client, listing.pk)
    client.force_login(UserFactory())

    response = checkout_post(client, listing.pk)

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "listing_unavailable",
        "message": "Another buyer is paying for this stub right now. Try again in a few minutes.",
    }
    assert Order.objects.count() == 1
    assert len(intents_on(seller.stripe_account_id)) == 1


def test_a_sold_listing_is_refused(buyer_client, seller):
    sold = ListingFactory(seller=seller, status=ListingStatus.SOLD)

    response = checkout_post(buyer_client, sold.pk)

    assert response.status_code == 409
    assert response.json()["error"]["message"] == "This stub has already been sold."


def test_a_listing_whose_seller_cannot_take_payments_is_refused(buyer_client):
    listing = ListingFactory(seller=NewSellerFactory())

    response = checkout_post(buyer_client, listing.pk)

    assert response.status_code == 409
    assert "not finished setting up payments" in response.json()["error"]["message"]


def test_a_lapsed_hold_of_another_buyer_is_taken_over_and_their_intent_cancelled(
    client, listing, seller, django_capture_on_commit_callbacks
):
    first_buyer = UserFactory()
    client.force_login(first_buyer)
    checkout_post(client, listing.pk)
    stale = Order.objects.get()
    Order.objects.filter(pk=stale.pk).update(reserved_until="2000-01-01T00:00Z")
    listing.__class__.objects.filter(pk=listing.pk).update(reserved_until="2000-01-01T00:00Z")
    second_buyer = UserFactory()
    client.force_login(second_buyer)

    with django_capture_on_commit_callbacks(execute=True):
        response = checkout_post(client, listing.pk)

    assert response.status_code == 200
    stale.refresh_from_db()
    assert stale.status == OrderStatus.CANCELLED
    old_intent = stripe.PaymentIntent.retrieve(
        stale.payment_intent_id, stripe_account=seller.stripe_account_id
    )
    assert old_intent.status == "canceled"
    listing.refresh_from_db()
    assert listing.reserved_by == second_buyer


# -- Stripe failing ------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [{"exception": "timeout"}, {"status": 500}])
def test_stripe_failing_cancels_the_order_releases_the_listing_and_says_so(
    buyer_client, listing, seller, stripe_sandbox, fault
):
    stripe_sandbox.fail_next("/v1/payment_intents", times=3, method="POST", **fault)

    response = checkout_post(buyer_client, listing.pk)

    assert response.status_code == 502
    assert response.json()["error"] == {
        "code": "payment_provider_error",
        "message": "Our payment provider did not answer. Please try again in a moment.",
    }
    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert (
        AuditEvent.objects.filter(order=order, action="order.transition", to_status="cancelled").count() == 1
    )
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE and listing.reserved_by is None
    # and once Stripe is back, the buyer simply tries again
    stripe_sandbox.clear_faults()
    again = checkout_post(buyer_client, listing.pk)
    assert again.status_code == 200 and again.json()["order_id"] != order.pk


# -- who may call it, and with what --------------------------------------------------------


def test_anonymous_callers_get_a_json_403(client, listing):
    response = checkout_post(client, listing.pk)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not Order.objects.exists()


def test_get_is_not_allowed(buyer_client):
    assert buyer_client.get(URL).status_code == 405


def test_bad_json_is_a_400(buyer_client):
    response = buyer_client.post(URL, data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_a_json_list_is_a_400(buyer_client):
    response = buyer_client.post(URL, data="[1, 2]", content_type="application/json")

    assert response.status_code == 400


def test_missing_shipping_fields_are_a_400_naming_them(buyer_client, listing):
    response = buyer_client.post(
        URL, data=json.dumps({"listing_id": listing.pk}), content_type="application/json"
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"shipping_name", "shipping_line1", "shipping_city", "shipping_postal_code"} <= set(fields)
    assert not Order.objects.exists()


@pytest.mark.parametrize("listing_id", ["abc", None, -1, 1.5])
def test_a_malformed_listing_id_is_a_400(buyer_client, listing_id):
    response = checkout_post(buyer_client, listing_id)

    assert response.status_code == 400
    assert "listing_id" in response.json()["error"]["fields"]


def test_an_unknown_listing_is_a_404(buyer_client):
    response = checkout_post(buyer_client, 999_999)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "listing_not_found"


def test_a_nested_shipping_object_is_accepted(buyer_client, listing):
    body = {
        "listing_id": listing.pk,
        "shipping": {
            "name": "Ada",
            "line1": "1 Main St",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "us",
        },
    }

    response = buyer_client.post(URL, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 200
    assert Order.objects.get().shipping_country == "US"


def test_a_bad_country_code_is_a_400(buyer_client, listing):
    response = checkout_post(buyer_client, listing.pk, shipping_country="United States")

    assert response.status_code == 400
    assert "shipping_country" in response.json()["error"]["fields"]


def test_the_route_needs_the_csrf_token_header(buyer, listing):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    body = json.dumps({"listing_id": listing.pk, **shipping_address()})

    refused = client.post(URL, data=body, content_type="application/json")
    client.get(reverse("payments_pages:checkout", args=[listing.pk]))  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(URL, data=body, content_type="application/json", headers={"X-CSRFToken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 200


def test_payment_intent_creation_is_rate_limited_per_user(buyer_client, listing):
    for _ in range(20):
        assert checkout_post(buyer_client, listing.pk).status_code == 200

    response = checkout_post(buyer_client, listing.pk)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


def test_asking_again_after_paying_but_before_the_webhook_says_the_intent_succeeded(
    buyer_client, listing, seller
):
    first = checkout_post(buyer_client, listing.pk).json()
    assert first["payment_intent_status"] == "requires_payment_method"
    stripe.PaymentIntent.confirm(
        Order.objects.get().payment_intent_id,
        payment_method="pm_card_visa",
        stripe_account=seller.stripe_account_id,
    )

    again = checkout_post(buyer_client, listing.pk).json()

    assert again["order_id"] == first["order_id"]
    assert again["payment_intent_status"] == "succeeded"  # the page goes to the order instead


def test_payment_intent_creation_is_rate_limited_per_ip_across_accounts(client, seller):
    """Sixty a minute from one address, however many accounts it logs in with."""
    listings = [ListingFactory(seller=seller) for _ in range(4)]
    answers = []
    for listing in listings:
        client.force_login(UserFactory())
        answers += [checkout_post(client, listing.pk).status_code for _ in range(16)]

    assert answers[:60] == [200] * 60
    assert set(answers[60:]) == {429}
