"""An accepted offer paid through the real checkout and webhook views on the Stripe sandbox: the
PaymentIntent is for the agreed price plus shipping with the platform fee on that, never what the
client sends; the payment pays the offer and voids the listing's other offers, whose buyers are
told; once the hold has gone, the listing's own price is back."""

import pytest
import stripe
from django.core import mail

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.pricing import application_fee_cents
from marketplace.tests.factories import ListingFactory
from offers import services
from offers.models import OfferStatus
from payments.models import Order, OrderStatus
from payments.tests.checkout_support import checkout_open, checkout_post
from payments.tests.factories import sandbox_seller_onboarded
from payments.tests.webhook_support import pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox_listing(webhook_sandbox):
    seller = sandbox_seller_onboarded(webhook_sandbox, email="seller@example.com")
    return ListingFactory(seller=seller, price_cents=5000, shipping_cents=400, offers_enabled=True)


def test_checkout_charges_the_countered_price_and_the_payment_pays_the_offer(
    sandbox_listing, webhook_sandbox, deliver_all, client, django_capture_on_commit_callbacks
):
    listing, seller = sandbox_listing, sandbox_listing.seller
    buyer, other = UserFactory(email="buyer@example.com"), UserFactory(email="other@example.com")
    offer = services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=3000)
    losing = services.offer_make(listing_id=listing.pk, buyer=other, amount_cents=3100)
    services.offer_counter(offer_id=offer.pk, seller=seller, amount_cents=4250)
    services.offer_accept(offer_id=offer.pk, user=buyer, amount_cents=4250)

    # An amount in the request is ignored: the server decides what is charged.
    opened = checkout_open(client, listing.pk, buyer=buyer, amount=1, price_cents=1)
    order = Order.objects.get(pk=opened["order_id"])
    assert opened["amount"] == order.amount_cents == 4650  # $42.50 agreed + $4.00 shipping
    assert order.application_fee_cents == application_fee_cents(4650)
    intent = stripe.PaymentIntent.retrieve(order.payment_intent_id, stripe_account=seller.stripe_account_id)
    assert (intent.amount, intent.application_fee_amount) == (4650, application_fee_cents(4650))
    # A reload keeps the same order at the same price.
    assert checkout_open(client, listing.pk, buyer=buyer)["order_id"] == order.pk

    mail.outbox.clear()
    pay(order)
    deliver_all()
    order.refresh_from_db()
    offer.refresh_from_db()
    losing.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert (offer.status, offer.order) == (OfferStatus.PAID, order)
    assert losing.status == OfferStatus.VOID
    void_mail = [m for m in mail.outbox if "no longer on sale" in m.subject]
    assert [m.to for m in void_mail] == [["other@example.com"]]  # not the buyer who bought it
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.SOLD


def test_another_buyer_cannot_check_out_a_listing_held_by_an_accepted_offer(sandbox_listing, client):
    buyer, other = UserFactory(), UserFactory()
    offer = services.offer_make(listing_id=sandbox_listing.pk, buyer=buyer, amount_cents=4000)
    services.offer_accept(offer_id=offer.pk, user=sandbox_listing.seller, amount_cents=4000)
    response = checkout_post(client, sandbox_listing.pk, buyer=other)
    assert response.status_code == 409
    assert not Order.objects.exists()


def test_once_the_hold_is_released_the_buyer_pays_the_listing_price(sandbox_listing, client):
    from marketplace.services import listing_release

    buyer = UserFactory()
    offer = services.offer_make(listing_id=sandbox_listing.pk, buyer=buyer, amount_cents=4000)
    services.offer_accept(offer_id=offer.pk, user=sandbox_listing.seller, amount_cents=4000)
    listing_release(listing_id=sandbox_listing.pk, buyer=buyer)
    services.offers_sweep()
    from django.core.cache import cache

    cache.clear()  # the hold's cooldown: this test is about the price, not the cooldown
    assert checkout_open(client, sandbox_listing.pk, buyer=buyer)["amount"] == 5400


def test_a_payment_at_the_agreed_price_after_the_hold_was_released_is_refunded(
    sandbox_listing, deliver_all, client
):
    from marketplace.services import listing_release

    buyer = UserFactory()
    offer = services.offer_make(listing_id=sandbox_listing.pk, buyer=buyer, amount_cents=4000)
    services.offer_accept(offer_id=offer.pk, user=sandbox_listing.seller, amount_cents=4000)
    order = Order.objects.get(pk=checkout_open(client, sandbox_listing.pk, buyer=buyer)["order_id"])
    assert order.amount_cents == 4400
    listing_release(listing_id=sandbox_listing.pk, buyer=buyer)  # the hold is gone, the price with it

    pay(order)
    deliver_all()
    order.refresh_from_db()
    assert order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED), order.status
    assert Listing.objects.get(pk=sandbox_listing.pk).status == ListingStatus.ACTIVE
    assert order.payment.amount_refunded_cents == 4400
