"""Checkout and order pages speak to buyers (no fee lines, a country list, one order
per purchase with its attempts in the timeline, a failed 3-D Secure back on the checkout)."""

import pytest

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.models import ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent, OrderStatus
from payments.tests.factories import OrderFactory, PaidOrderFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def _failed_attempt(*, buyer, listing, reason="card_declined"):
    order = OrderFactory(buyer=buyer, listing=listing, status=OrderStatus.PAYMENT_FAILED, reserved_until=None)
    AuditEvent.objects.create(action="order.created", order=order, to_status="pending_payment")
    AuditEvent.objects.create(
        action="order.transition", order=order, from_status="pending_payment",
        to_status="payment_failed", message=f"Payment failed: {reason}",
    )
    return order


def _purchase_after_two_failures():
    buyer = UserFactory()
    listing = ListingFactory()
    first = _failed_attempt(buyer=buyer, listing=listing)
    second = _failed_attempt(buyer=buyer, listing=listing, reason="payment_intent_authentication_failure")
    paid = PaymentFactory(order__buyer=buyer, order__listing=listing).order
    return buyer, listing, first, second, paid


def test_the_seller_sees_the_platform_fee_and_their_share_on_their_order(client):
    order = PaymentFactory(order__amount_cents=5000, order__application_fee_cents=500).order
    client.force_login(order.seller)

    html = client.get(f"/orders/{order.pk}/").content.decode()

    assert "Platform fee" in html and "$5.00" in html and "$45.00" in html


def test_a_checkout_for_a_sold_or_own_listing_says_nothing_about_holding_it(client):
    seller = SellerFactory()
    own = ListingFactory(seller=seller)
    sold = ListingFactory(status=ListingStatus.SOLD)
    client.force_login(seller)

    for listing in (own, sold):
        response = client.get(f"/checkout/{listing.pk}/")
        assert response.status_code == 409
        assert "held for you" not in response.content.decode()


def test_an_open_checkout_says_when_the_stub_will_be_held(client):
    client.force_login(UserFactory())
    html = client.get(f"/checkout/{ListingFactory().pk}/").content.decode()
    assert "held for you" in html


def test_the_country_is_chosen_from_a_list_with_common_destinations_first(client):
    client.force_login(UserFactory())
    html = client.get(f"/checkout/{ListingFactory().pk}/").content.decode()

    assert '<select name="shipping_country"' in html
    assert '<optgroup label="Common destinations">' in html
    assert '<option value="GB">United Kingdom</option>' in html
    assert '<option value="US" selected>United States</option>' in html


@pytest.mark.parametrize("country,ok", [("US", True), ("gb", True), ("XX", False), ("United States", False)])
def test_the_country_must_be_one_of_the_list(country, ok):
    from payments.forms import ShippingAddressForm

    form = ShippingAddressForm(data={
        "shipping_name": "A", "shipping_line1": "1 Road", "shipping_city": "C",
        "shipping_postal_code": "1", "shipping_country": country,
    })
    assert form.is_valid() is ok
    if ok:
        assert form.cleaned_data["shipping_country"] == country.upper()


def test_failed_attempts_fold_into_the_purchase_in_the_buyers_list(client):
    buyer, listing, first, second, paid = _purchase_after_two_failures()
    client.force_login(buyer)

    response = client.get("/orders/")

    assert list(response.context["purchases"].object_list) == [paid]
    assert "Payment failed" not in response.content.decode()


def test_the_sellers_list_shows_the_purchase_once_too(client):
    buyer, listing, first, second, paid = _purchase_after_two_failures()
    client.force_login(listing.seller)

    response = client.get("/orders/")

    assert list(response.context["sales"].object_list) == [paid]


def test_a_refunded_purchase_bought_again_is_two_orders(client):
    buyer = UserFactory()
    listing = ListingFactory()
    refunded = PaidOrderFactory(buyer=buyer, listing=listing, status=OrderStatus.REFUNDED)
    again = PaidOrderFactory(buyer=buyer, listing=listing)
    client.force_login(buyer)

    assert list(client.get("/orders/").context["purchases"].object_list) == [again, refunded]


def test_the_purchase_timeline_shows_each_attempt_in_plain_words(client):
    buyer, listing, first, second, paid = _purchase_after_two_failures()
    client.force_login(buyer)

    response = client.get(f"/orders/{paid.pk}/")

    lines = [line.text for line in response.context["timeline"]]
    assert lines == [
        "Attempt 1: Checkout started",
        "Attempt 1: Payment failed: the card was declined; nothing was charged",
        "Attempt 2: Checkout started",
        "Attempt 2: Payment failed: your bank did not confirm it (3-D Secure); nothing was charged",
    ]
    html = response.content.decode()
    assert "payment_intent_authentication_failure" not in html and "card_declined" not in html
    assert "your bank did not confirm it (3-D Secure)" in html
    assert "the card was declined" in html


def test_an_old_attempt_points_to_the_order_that_retried_it(client):
    buyer, listing, first, second, paid = _purchase_after_two_failures()
    client.force_login(buyer)

    html = client.get(f"/orders/{first.pk}/").content.decode()

    assert f'href="/orders/{second.pk}/"' in html


@pytest.mark.parametrize("status", [OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED])
def test_a_failed_3d_secure_returns_the_buyer_to_checkout_with_a_plain_message(client, status):
    order = OrderFactory(status=status)
    client.force_login(order.buyer)

    response = client.get(f"/orders/{order.pk}/?checkout=1&redirect_status=failed&payment_intent=pi_x")

    assert response.status_code == 302
    assert response.url == f"/checkout/{order.listing_id}/?payment=authentication_failed"
    order.listing.status = ListingStatus.ACTIVE
    order.listing.reserved_by = order.listing.reserved_until = None
    order.listing.save()
    page = client.get(response.url).content.decode()
    assert "Your bank did not confirm the payment (3-D Secure), so nothing was charged." in page
    assert "payment_intent_authentication_failure" not in page


def test_a_paid_order_back_from_stripe_stays_on_its_page(client):
    order = PaidOrderFactory()
    client.force_login(order.buyer)

    response = client.get(f"/orders/{order.pk}/?checkout=1&redirect_status=failed")

    assert response.status_code == 200


def test_an_unknown_payment_problem_shows_no_message(client):
    client.force_login(UserFactory())
    response = client.get(f"/checkout/{ListingFactory().pk}/?payment=%3Cscript%3E")
    assert response.status_code == 200 and response.context["payment_problem"] is None


def test_a_seller_without_sales_still_sees_an_empty_sales_panel(client):
    client.force_login(SellerFactory())
    response = client.get("/orders/")
    assert "No sales yet." in response.content.decode()
