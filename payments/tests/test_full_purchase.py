"""Whole purchases through the real routes, the sandbox and the signed webhooks.

The buyer opens a checkout (`POST /payments/create-payment-intent/`), pays the PaymentIntent on
the seller's account as Stripe.js would, and Stripe's events reach `/payments/webhook/connect/`;
then refunds (route and admin) and disputes (the sandbox's resolve API) run on the same order.
"""

import pytest
import stripe
from django.conf import settings
from django.core import mail
from django.test import Client
from djstripe import models as djstripe_models

from accounts.tests.factories import UserFactory
from marketplace.models import ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus, PaymentStatus
from payments.services.webhook_setup import webhook_event_types
from payments.services.webhooks import CONNECT
from payments.tests.checkout_support import checkout_open
from payments.tests.webhook_support import endpoints_register, pay, sandbox_order, sandbox_seller_onboarded

pytestmark = pytest.mark.django_db

@pytest.fixture
def sandbox(stripe_sandbox):
    return endpoints_register(stripe_sandbox, Client())  # Stripe's deliveries carry no session


@pytest.fixture
def listing(sandbox):
    return ListingFactory(seller=sandbox_seller_onboarded(sandbox), price_cents=5000)


@pytest.fixture
def buyer(client):
    user = UserFactory()
    client.force_login(user)
    return user


@pytest.fixture
def deliver(sandbox, django_capture_on_commit_callbacks):
    """Send every queued event, running on_commit work (emails) as a real commit would."""

    def send():
        with django_capture_on_commit_callbacks(execute=True):
            assert sandbox.flush_deliveries()
        assert not [d for d in sandbox.deliveries if d["status"] == "failed"]

    return send


def confirm(started: dict, payment_method: str):
    """What Stripe.js does with the client secret, on the seller's account."""
    intent_id = started["client_secret"].split("_secret_")[0]
    try:
        return stripe.PaymentIntent.confirm(intent_id, payment_method=payment_method,
                                            stripe_account=started["stripe_account"],
                                            api_key=settings.STRIPE_SECRET_KEY)
    except stripe.CardError as error:
        return error


def test_a_buyer_pays_with_4242_and_the_order_is_paid_with_the_right_figures(
    client, sandbox, listing, buyer, deliver
):
    started = checkout_open(client, listing.pk)
    assert started["amount"] == 5000 and "application_fee_amount" not in started
    assert started["stripe_account"] == listing.seller.stripe_account_id

    intent = confirm(started, "pm_card_visa")
    deliver()

    assert intent.status == "succeeded"
    order = Order.objects.get(pk=started["order_id"])
    listing.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert listing.status == ListingStatus.SOLD
    payment = order.payment
    assert (payment.amount_cents, payment.application_fee_cents) == (5000, 500)
    assert payment.fee_matches_policy
    assert payment.stripe_account_id == listing.seller.stripe_account_id
    assert payment.charge_id == intent.latest_charge
    assert payment.status == PaymentStatus.SUCCEEDED
    assert sorted(m.to[0] for m in mail.outbox) == sorted([buyer.email, listing.seller.email])
    status = client.get(f"/payments/orders/{order.pk}/status/").json()
    assert status["status"] == "paid"
    # dj-stripe mirrored the objects the events point to. Not the Charge: a payment sends no
    # charge event production enables, and the charge's id comes from the PaymentIntent (above).
    assert djstripe_models.Event.objects.filter(type="payment_intent.succeeded").count() == 1
    assert djstripe_models.PaymentIntent.objects.filter(id=order.payment_intent_id).exists()
    assert djstripe_models.Account.objects.filter(id=order.stripe_account_id).exists()


def test_a_declined_card_keeps_the_order_open_and_the_stub_held_for_another_card(
    client, sandbox, listing, buyer, deliver
):
    started = checkout_open(client, listing.pk)

    error = confirm(started, "pm_card_chargeDeclined")
    deliver()

    assert isinstance(error, stripe.CardError)
    order = Order.objects.get(pk=started["order_id"])
    listing.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT and order.payment_failures == 1
    assert listing.status == ListingStatus.RESERVED and listing.reserved_by == buyer
    assert mail.outbox == []


def test_a_3d_secure_card_is_paid_after_authentication(client, sandbox, listing, buyer, deliver):
    started = checkout_open(client, listing.pk)

    intent = confirm(started, "pm_card_authenticationRequired")
    deliver()
    assert intent.status == "requires_action"
    assert Order.objects.get(pk=started["order_id"]).status == OrderStatus.PENDING_PAYMENT

    sandbox.complete_3ds(intent.id)
    deliver()

    order = Order.objects.get(pk=started["order_id"])
    assert order.status == OrderStatus.PAID
    assert order.payment.three_d_secure_authenticated is True


def test_refunds_by_the_seller_and_then_staff_return_the_money_and_the_stub(
    client, sandbox, listing, buyer, deliver
):
    started = checkout_open(client, listing.pk)
    confirm(started, "pm_card_visa")
    deliver()
    order = Order.objects.get(pk=started["order_id"])

    seller = Client()
    seller.force_login(listing.seller)
    partial = seller.post(f"/payments/orders/{order.pk}/refund/", {"amount": 1999},
                          content_type="application/json")
    deliver()
    order.refresh_from_db()
    assert partial.status_code == 201
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert (order.payment.amount_refunded_cents, order.payment.fee_refunded_cents) == (1999, 200)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SOLD

    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    rest = staff.post(f"/admin/payments/order/{order.pk}/refund/",
                      {"amount": "", "reason": "requested_by_customer", "token": "t", "confirm": "1"})
    # The sale alone cannot cover its own full refund (Stripe kept its fee): the rest waits
    # pending until the seller's balance can; here the funds arrive.
    sandbox.settle_refunds()
    for refund in order.refunds.filter(status="pending"):
        sandbox.settle_refunds(refund.stripe_refund_id)
    deliver()
    order.refresh_from_db()
    listing.refresh_from_db()
    assert rest.status_code == 302
    assert order.status == OrderStatus.REFUNDED
    assert (order.payment.amount_refunded_cents, order.payment.fee_refunded_cents) == (5000, 500)
    assert order.payment.net_platform_amount_cents == 0
    assert listing.status == ListingStatus.ACTIVE
    charge = sandbox.get(order.payment.charge_id)
    assert charge["refunded"] is True
    assert sandbox.get(charge["application_fee"])["amount_refunded"] == 500
    assert djstripe_models.Refund.objects.filter(charge__id=charge["id"]).count() == 2


@pytest.mark.parametrize(
    ("outcome", "final"), [("won", OrderStatus.PAID), ("lost", OrderStatus.DISPUTE_LOST)]
)
def test_a_dispute_opens_and_is_resolved_by_the_card_network(
    client, sandbox, listing, buyer, deliver, outcome, final
):
    started = checkout_open(client, listing.pk)
    confirm(started, "pm_card_visa")
    deliver()
    order = Order.objects.get(pk=started["order_id"])

    dispute = sandbox.open_dispute(order.payment.charge_id)
    deliver()
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPUTED
    assert djstripe_models.Dispute.objects.filter(id=dispute["id"]).exists()

    sandbox.resolve_dispute(dispute["id"], outcome)
    deliver()

    order.refresh_from_db()
    assert order.status == final
    assert order.payment.dispute_status == outcome


def test_the_0259_card_is_paid_and_disputed_straight_away(client, sandbox, listing, buyer, deliver):
    started = checkout_open(client, listing.pk)

    confirm(started, "pm_card_createDispute")
    deliver()

    order = Order.objects.get(pk=started["order_id"])
    assert order.status == OrderStatus.DISPUTED
    assert order.status_before_dispute == OrderStatus.PAID
    assert order.payment.dispute_status == "needs_response"
    assert len([m for m in mail.outbox if m.to == [buyer.email]]) == 1  # the paid mail, once


@pytest.mark.django_db(transaction=True)
def test_over_real_http_the_sandbox_server_delivers_signed_events_to_the_live_site(
    live_server, stripe_sandbox_server, monkeypatch, settings
):
    """No test client anywhere: the sandbox is an HTTP server with background delivery, our
    site is a live server, and dj-stripe re-fetches over HTTP too."""
    monkeypatch.setattr(stripe, "api_base", stripe_sandbox_server.url)
    monkeypatch.setattr(stripe, "connect_api_base", stripe_sandbox_server.url)
    sandbox = stripe_sandbox_server.app
    order = sandbox_order(sandbox)
    # Registered after the set-up so that, while deliveries run, this thread does no queries
    # (on SQLite the live server shares this thread's connection).
    sandbox.create_webhook_endpoint(
        f"{live_server.url}/payments/webhook/connect/", secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET,
        connect=True, enabled_events=webhook_event_types(CONNECT),
    )

    pay(order)

    assert sandbox.flush_deliveries(timeout=30)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert all(d["status"] == "succeeded" for d in sandbox.deliveries)
    assert djstripe_models.WebhookEventTrigger.objects.filter(processed=True).exists()
