"""Who pays Stripe's fees. Sellers' accounts are made with controller.fees.payer=application, so
Stripe takes its processing and dispute fees on their direct charges from the platform
(docs/going-live.md). The platform fee is therefore never below Stripe's processing fee, and
the sandbox puts each fee on the balance Stripe would."""

import json

import pytest
import stripe
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.pricing import (
    EXPRESS_DIRECT_CHARGES_CONTROLLER,
    STRIPE_DISPUTE_FEE_CENTS,
    application_fee_cents,
    seller_receives_cents,
    stripe_processing_fee_cents,
)
from marketplace.tests.factories import ListingFactory
from payments.models import Order
from payments.services.notifications import notify_order_paid
from payments.tests.factories import PaidOrderFactory, shipping_address
from payments.tests.webhook_support import pay

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("amount", "stripe_fee", "fee", "platform_keeps"),
    [
        (500, 45, 50, 5),  # $5: 10 % is $0.50, Stripe takes $0.45
        (2000, 88, 200, 112),  # $20
        (20000, 610, 2000, 1390),  # $200
        (300, 39, 39, 0),  # $3: 10 % ($0.30) would not cover Stripe's $0.39
        (50, 31, 31, 0),  # Stripe's smallest charge
    ],
)
def test_the_platform_fee_never_falls_below_stripes_processing_fee(settings, amount, stripe_fee, fee,
                                                                   platform_keeps):
    settings.PLATFORM_FEE_BPS = 1000

    assert stripe_processing_fee_cents(amount) == stripe_fee
    assert application_fee_cents(amount) == fee
    assert application_fee_cents(amount) - stripe_processing_fee_cents(amount) == platform_keeps
    assert seller_receives_cents(amount) == amount - fee


def test_the_fee_floor_binds_only_below_about_four_dollars_twenty_three(settings):
    settings.PLATFORM_FEE_BPS = 1000

    assert (application_fee_cents(414), stripe_processing_fee_cents(414)) == (42, 42)  # 10 %: 41
    assert (application_fee_cents(423), stripe_processing_fee_cents(423)) == (42, 42)  # 10 %: 42
    assert (application_fee_cents(1000), stripe_processing_fee_cents(1000)) == (100, 59)


def _platform_net_from(source_ids: set[str]) -> int:
    """What the platform's balance gained from these charges and their fees."""
    fees = stripe.ApplicationFee.list(limit=100).data
    fee_ids = {fee.id for fee in fees if fee.charge in source_ids}
    return sum(txn.net for txn in stripe.BalanceTransaction.list(limit=100).data
               if txn.source in source_ids | fee_ids)


def test_a_three_dollar_sale_through_checkout_costs_the_platform_nothing(stripe_sandbox, client):
    account = stripe_sandbox.create_account(controller=EXPRESS_DIRECT_CHARGES_CONTROLLER)
    seller = SellerFactory(stripe_account_id=account["id"])
    listing = ListingFactory(seller=seller, price_cents=300, shipping_cents=0)
    client.force_login(UserFactory())

    response = client.post("/payments/create-payment-intent/", content_type="application/json",
                           data=json.dumps({"listing_id": listing.pk, **shipping_address()}))
    assert response.status_code == 200
    order = Order.objects.get()
    pay(order)

    [charge] = stripe.Charge.list(stripe_account=account["id"]).data
    assert charge.application_fee_amount == 39
    [sale] = stripe.BalanceTransaction.list(stripe_account=account["id"], type="charge").data
    assert sale.fee == 39 and sale.net == 261  # no Stripe fee on the seller's balance
    assert _platform_net_from({charge.id}) == 0  # the platform fee paid Stripe's fee


def test_a_dispute_fee_lands_on_the_platform_balance_not_the_sellers(stripe_sandbox, client):
    account = stripe_sandbox.create_account(controller=EXPRESS_DIRECT_CHARGES_CONTROLLER)
    seller = SellerFactory(stripe_account_id=account["id"])
    listing = ListingFactory(seller=seller, price_cents=2000, shipping_cents=0)
    client.force_login(UserFactory())
    client.post("/payments/create-payment-intent/", content_type="application/json",
                data=json.dumps({"listing_id": listing.pk, **shipping_address()}))
    pay(Order.objects.get(), payment_method="pm_card_disputed")

    [dispute] = stripe.Dispute.list(stripe_account=account["id"]).data
    [withdrawal] = stripe.BalanceTransaction.list(stripe_account=account["id"], type="adjustment").data
    assert (withdrawal.amount, withdrawal.fee) == (-2000, 0)
    [charge] = stripe.Charge.list(stripe_account=account["id"]).data
    # $20 sale: fee $2.00, Stripe's $0.88 and the $15.00 dispute fee: the platform is $13.88 down.
    assert _platform_net_from({charge.id, dispute.id}) == 200 - 88 - STRIPE_DISPUTE_FEE_CENTS



def test_the_seller_is_told_the_fee_kept_and_that_the_platform_pays_stripes_fee(client, settings):
    """What docs/going-live.md says the seller is shown: the sale email and the seller's order page
    give the platform fee (here the floor), say Stripe's fee is the platform's, and take nothing
    more from the seller's share."""
    settings.PLATFORM_FEE_BPS = 1000
    order = PaidOrderFactory(listing__price_cents=300, listing__shipping_cents=0,
                             listing__seller__email="seller@example.com")

    notify_order_paid(order=order)

    [notice] = [m for m in mail.outbox if m.to == ["seller@example.com"]]
    assert "Platform fee: $0.39\n" in notice.body
    assert "You receive: $2.61 (Stub Collector pays Stripe's processing fee)" in notice.body
    client.force_login(order.seller)
    seller_page = client.get(reverse("payments_pages:order_detail", args=[order.pk])).content.decode()
    assert "Platform fee, the minimum: Stripe&#x27;s card fee on this sale" in seller_page
    assert "Stripe&#x27;s card fee, paid by Stub Collector, not you" in seller_page
    assert '<dd class="money-net">$2.61</dd>' in seller_page
    client.force_login(order.buyer)
    buyer_page = client.get(reverse("payments_pages:order_detail", args=[order.pk])).content.decode()
    assert "$2.61" not in buyer_page  # the fee split is between the seller and us

# -- the statement descriptor suffix -----------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("Ticket Heaven", "TICKET HEA"),
        ("Zoë's <Stubs>*", "ZOE S STUB"),
        ("O'Brien \"Rare\" Stubs", "O BRIEN RA"),
        ("1999 2000", ""),  # no letter: Stripe would refuse it, so none is sent
        ("東京", ""),
    ],
)
def test_a_shop_name_becomes_a_suffix_stripe_accepts(name, suffix):
    from payments.stripe_api import statement_descriptor_suffix_for

    assert statement_descriptor_suffix_for(name) == suffix


def test_checkout_puts_the_sellers_shop_name_on_the_buyers_card_statement(stripe_sandbox, client):
    account = stripe_sandbox.create_account(controller=EXPRESS_DIRECT_CHARGES_CONTROLLER)
    seller = SellerFactory(stripe_account_id=account["id"], first_name="Zoë", last_name="O'Stubs")
    listing = ListingFactory(seller=seller)
    client.force_login(UserFactory())

    response = client.post("/payments/create-payment-intent/", content_type="application/json",
                           data=json.dumps({"listing_id": listing.pk, **shipping_address()}))

    assert response.status_code == 200
    [intent] = stripe.PaymentIntent.list(stripe_account=account["id"]).data
    assert intent.statement_descriptor_suffix == "ZOE O STUB"


def test_stripe_refuses_a_suffix_with_forbidden_characters_or_too_long(stripe_sandbox):
    account = stripe_sandbox.create_account()
    for bad in ("Zoë's*", "A VERY LONG SHOP NAME"):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            stripe.PaymentIntent.create(amount=1000, currency="usd", stripe_account=account["id"],
                                        statement_descriptor_suffix=bad)
        assert refused.value.param == "statement_descriptor_suffix"
