"""Order pages (/orders/, /orders/<id>/) and the moves after payment (ship, complete)."""

import json

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import SellerFactory, UserFactory
from payments.models import AuditEvent, OrderStatus
from payments.services.orders import order_transition
from payments.tests.factories import OrderFactory, PaidOrderFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def detail_url(order):
    return reverse("payments_pages:order_detail", args=[order.pk])


def ship_url(order):
    return reverse("payments:order_ship", args=[order.pk])


def complete_url(order):
    return reverse("payments:order_complete", args=[order.pk])


def moves(order, to):
    return AuditEvent.objects.filter(order=order, action="order.transition", to_status=to).count()


# -- /orders/ --------------------------------------------------------------------------------


def test_the_order_list_lives_at_the_contract_path():
    assert reverse("payments_pages:order_list") == "/orders/"


def test_anonymous_visitors_are_sent_to_log_in_from_the_order_pages(client):
    order = OrderFactory()
    for url in ("/orders/", detail_url(order)):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_order_list_shows_my_purchases_and_my_sales_and_nobody_elses(client):
    me = UserFactory()
    bought = PaidOrderFactory(buyer=me)
    me_seller = SellerFactory()
    sold = PaidOrderFactory(listing__seller=me_seller)
    someone_elses = PaidOrderFactory()
    client.force_login(me)

    response = client.get("/orders/")

    assert response.status_code == 200
    assert list(response.context["purchases"].object_list) == [bought]
    assert "sales" not in response.context  # not a seller, never sold: no Sales panel
    assert "Sales" not in response.content.decode()
    assert f"#{someone_elses.pk}<" not in response.content.decode()
    client.force_login(me_seller)
    response = client.get("/orders/")
    assert list(response.context["sales"].object_list) == [sold]


def _queries_for_order_list(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/orders/")
    assert response.status_code == 200
    return len(queries)


def test_the_order_list_costs_the_same_queries_for_2_or_25_orders(client):
    user = SellerFactory()
    client.force_login(user)
    for _ in range(2):
        PaidOrderFactory(buyer=user)
        PaidOrderFactory(listing__seller=user)
    few = _queries_for_order_list(client)
    for _ in range(23):
        PaidOrderFactory(buyer=user)
        PaidOrderFactory(listing__seller=user)
    many = _queries_for_order_list(client)

    assert few == many


def test_the_order_list_is_paginated(client):
    buyer = UserFactory()
    for _ in range(25):
        PaidOrderFactory(buyer=buyer)
    client.force_login(buyer)

    first = client.get("/orders/")
    second = client.get("/orders/?purchases_page=2")

    assert len(first.context["purchases"].object_list) == 20
    assert len(second.context["purchases"].object_list) == 5
    assert "?purchases_page=2" in first.content.decode()


def test_a_junk_page_number_shows_the_first_page(client):
    buyer = UserFactory()
    PaidOrderFactory(buyer=buyer)
    client.force_login(buyer)

    response = client.get("/orders/?purchases_page=abc&sales_page=-3")

    assert response.status_code == 200


# -- /orders/<id>/ ---------------------------------------------------------------------------


def test_the_buyer_sees_the_order_amounts_address_and_timeline(client):
    order = PaymentFactory(
        order__amount_cents=5000, order__application_fee_cents=500, order__shipping_name="Ada Lovelace"
    ).order
    AuditEvent.objects.create(
        action="order.transition",
        order=order,
        from_status="pending_payment",
        to_status="paid",
        message="payment_intent.succeeded",
    )
    client.force_login(order.buyer)

    response = client.get(detail_url(order))

    assert response.status_code == 200
    html = response.content.decode()
    assert "$50.00" in html
    assert "$5.00" not in html and "$45.00" not in html  # no fee, no seller share for the buyer
    assert "Platform fee" not in html and "receive" not in html
    assert "Ada Lovelace" in html
    assert [line.text for line in response.context["timeline"]] == ["You paid $50.00"]
    assert "payment_intent" not in html
    assert not response.context["can_ship"] and not response.context["can_refund"]
    assert 'action="/payments/orders/' not in html  # no ship or refund form for the buyer


def test_the_seller_sees_the_ship_form_and_the_refund_button(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)

    response = client.get(detail_url(order))

    html = response.content.decode()
    assert response.context["can_ship"] and response.context["can_refund"]
    assert f'action="/payments/orders/{order.pk}/ship/"' in html
    assert f'action="/payments/orders/{order.pk}/refund/"' in html
    assert order.shipping_line1 in html


def test_the_buyer_sees_confirm_receipt_once_shipped(client):
    order = PaidOrderFactory(status=OrderStatus.SHIPPED, tracking_number="1Z999")
    client.force_login(order.buyer)

    response = client.get(detail_url(order))

    html = response.content.decode()
    assert f'action="/payments/orders/{order.pk}/complete/"' in html
    assert "1Z999" in html


def test_a_stranger_gets_404_for_someone_elses_order(client):
    order = PaidOrderFactory()
    client.force_login(UserFactory())

    response = client.get(detail_url(order))

    assert response.status_code == 404
    assert order.shipping_line1 not in response.content.decode()


def test_an_unknown_order_is_a_404(client):
    client.force_login(UserFactory())

    assert client.get("/orders/999999/").status_code == 404


def test_the_return_page_of_a_pending_order_waits_for_the_webhook(client):
    order = OrderFactory()
    client.force_login(order.buyer)

    response = client.get(detail_url(order) + "?checkout=1")

    html = response.content.decode()
    assert 'data-poll="1"' in html
    assert '<script id="order-status-config" type="application/json">' in html
    assert f"/payments/orders/{order.pk}/status/" in html


# -- POST /payments/orders/<id>/ship/ ---------------------------------------------------------


def test_the_seller_ships_with_a_tracking_number_and_the_buyer_is_emailed(
    client, django_capture_on_commit_callbacks
):
    order = PaidOrderFactory(buyer__email="buyer@example.com")
    client.force_login(order.seller)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ship_url(order), {"tracking_number": " 1Z999AA10123456784 "})

    assert response.status_code == 302 and response.url == detail_url(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and order.shipped_at is not None
    assert order.tracking_number == "1Z999AA10123456784"
    assert moves(order, "shipped") == 1
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]]
    assert "1Z999AA10123456784" in mail.outbox[0].body


def test_shipping_by_json_answers_json(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)

    response = client.post(
        ship_url(order), data=json.dumps({"tracking_number": "T1"}), content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "order_id": order.pk,
        "status": "shipped",
        "status_display": "Shipped",
        "tracking_number": "T1",
        "shipping_carrier": "",  # optional: JSON clients that send only a tracking number work
        "tracking_url": "",
    }


def test_shipping_without_a_tracking_number_is_fine(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)

    client.post(ship_url(order))

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and order.tracking_number == ""


def test_a_double_click_on_ship_moves_the_order_once(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)

    first = client.post(ship_url(order), {"tracking_number": "T1"})
    second = client.post(ship_url(order), {"tracking_number": "T2"}, follow=True)

    assert first.status_code == 302
    assert second.status_code == 200
    assert "already been marked as shipped" in second.content.decode()
    order.refresh_from_db()
    assert order.tracking_number == "T1"
    assert moves(order, "shipped") == 1


def test_shipping_twice_by_json_is_a_409(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)
    client.post(ship_url(order), data="{}", content_type="application/json")

    response = client.post(ship_url(order), data="{}", content_type="application/json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_already_shipped"


def test_a_partially_refunded_order_can_still_be_shipped(client):
    order = PaidOrderFactory()
    order_transition(order=order, to=OrderStatus.PARTIALLY_REFUNDED)
    client.force_login(order.seller)

    client.post(ship_url(order))

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


@pytest.mark.parametrize("status", [OrderStatus.PENDING_PAYMENT, OrderStatus.REFUNDED, OrderStatus.CANCELLED])
def test_an_unpaid_or_refunded_order_cannot_be_shipped(client, status):
    order = OrderFactory(status=status)
    client.force_login(order.seller)

    response = client.post(ship_url(order))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_shippable"
    order.refresh_from_db()
    assert order.status == status


def test_only_the_seller_can_ship(client):
    order = PaidOrderFactory()
    anonymous = client.post(ship_url(order))
    client.force_login(order.buyer)
    buyer = client.post(ship_url(order))
    client.force_login(UserFactory())
    stranger = client.post(ship_url(order))

    assert anonymous.status_code == 403
    assert buyer.status_code == 404 and stranger.status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_ship_needs_post(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)

    assert client.get(ship_url(order)).status_code == 405


def test_a_too_long_tracking_number_or_bad_json_is_a_400(client):
    order = PaidOrderFactory()
    client.force_login(order.seller)

    too_long = client.post(ship_url(order), {"tracking_number": "X" * 101})
    bad_json = client.post(ship_url(order), data="{oops", content_type="application/json")

    assert too_long.status_code == 400 and bad_json.status_code == 400
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


# -- POST /payments/orders/<id>/complete/ -----------------------------------------------------


def test_the_buyer_confirms_receipt(client):
    order = PaidOrderFactory(status=OrderStatus.SHIPPED)
    client.force_login(order.buyer)

    response = client.post(complete_url(order))

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.completed_at is not None
    assert moves(order, "completed") == 1


def test_a_double_click_on_confirm_receipt_completes_once(client):
    order = PaidOrderFactory(status=OrderStatus.SHIPPED)
    client.force_login(order.buyer)

    client.post(complete_url(order))
    second = client.post(complete_url(order), follow=True)
    as_json = client.post(complete_url(order), content_type="application/json", data="{}")

    assert "already confirmed receipt" in second.content.decode()
    assert as_json.status_code == 409
    assert moves(order, "completed") == 1


def test_receipt_cannot_be_confirmed_before_shipping(client):
    order = PaidOrderFactory()
    client.force_login(order.buyer)

    response = client.post(complete_url(order))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_completable"


def test_only_the_buyer_can_confirm_receipt(client):
    order = PaidOrderFactory(status=OrderStatus.SHIPPED)
    anonymous = client.post(complete_url(order))
    client.force_login(order.seller)
    seller = client.post(complete_url(order))
    client.force_login(UserFactory())
    stranger = client.post(complete_url(order))

    assert anonymous.status_code == 403
    assert seller.status_code == 404 and stranger.status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_a_buyer_whose_payment_failed_is_offered_another_try(client):
    order = OrderFactory(status=OrderStatus.PAYMENT_FAILED)
    client.force_login(order.buyer)

    response = client.get(detail_url(order) + "?checkout=1")

    html = response.content.decode()
    assert "The payment did not go through" in html
    assert f'href="/checkout/{order.listing_id}/"' in html
