"""A shipping charge per listing (in the PaymentIntent amount, never from the client,
fee on the whole amount), and shipping an order with a carrier and a tracking link."""

import json

import pytest
import stripe
from django.core import mail
from django.db import IntegrityError, transaction

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.models import ListingStatus
from marketplace.pricing import platform_fee_cents
from marketplace.shipping import InvalidShipping, ShippingLocked, listing_shipping_set
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload
from payments.models import Order, OrderStatus
from payments.shipping import tracking_url
from payments.tests.checkout_support import checkout_post
from payments.tests.factories import (
    OrderFactory,
    PaidOrderFactory,
    sandbox_seller_onboarded,
)

pytestmark = pytest.mark.django_db

URL = "/payments/create-payment-intent/"


@pytest.fixture
def listing(stripe_sandbox):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    return ListingFactory(seller=seller, price_cents=5000, shipping_cents=450)


# -- the amount ----------------------------------------------------------------------------------


def test_shipping_is_in_the_order_and_payment_intent_amount_with_the_fee_on_the_whole(client, listing):
    client.force_login(UserFactory())

    data = checkout_post(client, listing.pk).json()

    order = Order.objects.get()
    assert data["amount"] == order.amount_cents == 5450
    assert order.shipping_cents == 450
    assert order.application_fee_cents == platform_fee_cents(5450) == 545
    intent = stripe.PaymentIntent.retrieve(order.payment_intent_id, stripe_account=order.stripe_account_id)
    assert intent.amount == 5450 and intent.application_fee_amount == 545


def test_a_shipping_charge_or_amount_sent_by_the_client_is_ignored(client, listing):
    client.force_login(UserFactory())

    sneaky = {"shipping_cents": 0, "amount": 1, "amount_cents": 1, "total": 1, "price_cents": 1}
    data = checkout_post(client, listing.pk, **sneaky).json()

    assert data["amount"] == 5450
    assert Order.objects.get().shipping_cents == 450


def test_free_shipping_charges_the_price_alone(client, stripe_sandbox):
    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox), price_cents=5000)
    client.force_login(UserFactory())

    assert checkout_post(client, listing.pk).json()["amount"] == 5000


def test_the_buyer_sees_price_shipping_and_total_before_paying(client, listing):
    client.force_login(UserFactory())

    detail = client.get(f"/listings/{listing.pk}/").content.decode()
    checkout = client.get(f"/checkout/{listing.pk}/").content.decode()

    assert "+ $4.50 shipping" in detail and "Buy for $54.50" in detail
    assert 'id="checkout-shipping">$4.50<' in checkout
    assert 'id="checkout-total">$54.50<' in checkout
    assert "Pay $54.50" in checkout


def test_a_listing_without_shipping_says_free_shipping(client):
    listing = ListingFactory()
    assert "Free shipping" in client.get(f"/listings/{listing.pk}/").content.decode()


# -- setting the charge ---------------------------------------------------------------------------


def test_the_seller_sets_shipping_on_the_sell_form(client):
    seller = SellerFactory()
    client.force_login(seller)

    response = client.post("/listings/new/", {
        "event_name": "Purple Rain Tour", "performer": "Prince", "venue": "Joe Louis Arena",
        "city": "Detroit", "event_date": "1984-11-04", "category": "concert", "condition": "good",
        "price": "80", "shipping": "3.75", "photos": image_upload(),
    })

    assert response.status_code == 302
    assert seller.listings.get().shipping_cents == 375


@pytest.mark.parametrize("shipping", ["-1", "100.01", "1.234", "abc"])
def test_a_bad_shipping_charge_is_a_form_error(client, shipping):
    listing = ListingFactory()
    client.force_login(listing.seller)

    response = client.post(f"/listings/{listing.pk}/edit/", {
        "event_name": "X", "venue": "V", "city": "C", "event_date": "2001-01-01", "category": "concert",
        "condition": "good", "price": "10", "shipping": shipping,
    })

    assert response.status_code == 400
    assert "shipping" in response.context["form"].errors


@pytest.mark.parametrize("cents", [-1, 10_001, 5.0, True])
def test_the_service_refuses_shipping_out_of_bounds(cents):
    listing = ListingFactory()
    with pytest.raises(InvalidShipping):
        listing_shipping_set(listing_id=listing.pk, seller=listing.seller, shipping_cents=cents)


def test_the_database_refuses_shipping_above_the_cap():
    listing = ListingFactory()
    listing.shipping_cents = 10_001
    with pytest.raises(IntegrityError), transaction.atomic():
        listing.save()


def test_shipping_is_locked_while_a_buyer_pays_and_once_sold():
    held = OrderFactory().listing
    sold = PaidOrderFactory().listing
    for listing in (held, sold):
        with pytest.raises(ShippingLocked):
            listing_shipping_set(listing_id=listing.pk, seller=listing.seller, shipping_cents=999)


def test_a_stranger_cannot_set_someone_elses_shipping():
    from marketplace.services import ListingNotFound

    listing = ListingFactory()
    with pytest.raises(ListingNotFound):
        listing_shipping_set(listing_id=listing.pk, seller=SellerFactory(), shipping_cents=100)


# -- carrier and tracking -------------------------------------------------------------------------


def test_the_seller_ships_with_a_carrier_and_the_buyer_gets_a_tracking_link(
    client, django_capture_on_commit_callbacks
):
    order = PaidOrderFactory(buyer=UserFactory(email="buyer@example.com"))
    client.force_login(order.seller)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/payments/orders/{order.pk}/ship/", {"shipping_carrier": "ups", "tracking_number": "1Z 999 AA1"}
        )

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.shipping_carrier, order.tracking_number) == ("shipped", "ups", "1Z 999 AA1")
    link = "https://www.ups.com/track?tracknum=1Z%20999%20AA1"
    assert order.tracking_url == link
    client.force_login(order.buyer)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'href="{link}"' in html and "Track the parcel with UPS" in html
    assert link in mail.outbox[-1].body and "Carrier: UPS" in mail.outbox[-1].body


def test_the_dashboards_quick_ship_form_asks_for_the_carrier_like_the_order_page(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)

    for page in (client.get("/dashboard/").text, client.get(f"/orders/{order.pk}/").text):
        form = page.split(f'action="/payments/orders/{order.pk}/ship/"', 1)[1].split("</form>", 1)[0]
        assert f'<select name="shipping_carrier" id="carrier-{order.pk}" required>' in form
        assert '<option value="ups">UPS</option>' in form
        assert f'name="tracking_number" id="tracking-{order.pk}"' in form


def test_shipping_by_json_returns_the_carrier_and_link(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)

    response = client.post(
        f"/payments/orders/{order.pk}/ship/",
        data=json.dumps({"shipping_carrier": "royal_mail", "tracking_number": "AB123456789GB"}),
        content_type="application/json",
    )

    assert response.status_code == 200
    royal_mail = "https://www.royalmail.com/track-your-item#/tracking-results/AB123456789GB"
    assert response.json()["tracking_url"] == royal_mail


def test_an_unknown_carrier_is_a_400(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)

    response = client.post(
        f"/payments/orders/{order.pk}/ship/", data=json.dumps({"shipping_carrier": "pigeon"}),
        content_type="application/json",
    )

    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_other_carriers_show_the_number_without_a_link():
    assert tracking_url(carrier="other", tracking_number="X1") == ""
    assert tracking_url(carrier="usps", tracking_number="  ") == ""
    fedex = "https://www.fedex.com/fedextrack/?trknbr=12%2F34%3Fx"
    assert tracking_url(carrier="fedex", tracking_number="12/34?x") == fedex


def test_the_order_page_offers_the_carriers_to_the_seller(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)

    html = client.get(f"/orders/{order.pk}/").content.decode()

    for label in ("USPS", "UPS", "FedEx", "DHL", "Royal Mail", "Canada Post", "Other"):
        assert f">{label}</option>" in html


def test_a_listing_back_on_sale_after_a_refund_can_change_shipping():
    listing = ListingFactory(status=ListingStatus.ACTIVE, shipping_cents=100)
    listing_shipping_set(listing_id=listing.pk, seller=listing.seller, shipping_cents=0)
    listing.refresh_from_db()
    assert listing.shipping_cents == 0


def test_the_api_tells_shipping_and_the_amount_a_checkout_would_charge(client):
    listing = ListingFactory(price_cents=2000, shipping_cents=500)

    detail = client.get(f"/api/listings/{listing.pk}/").json()
    compatibility = client.get("/marketplace/payment-compatibility/", {"listing_id": listing.pk}).json()

    assert detail["shipping_cents"] == 500
    assert (compatibility["amount_cents"], compatibility["shipping_cents"]) == (2500, 500)
    assert "application_fee_cents" not in compatibility  # a buyer's view
