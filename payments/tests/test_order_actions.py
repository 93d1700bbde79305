"""Who may ship, confirm receipt, refund or put back on sale: the services' predicates
(payments.services.fulfilment, payments.services.refunds) and the one selector the order page
and the dashboard read them through (payments.selectors.orders.order_actions_for)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import NewSellerFactory, UserFactory
from marketplace.models import ListingStatus
from payments.models import Order, OrderStatus, RefundStatus
from payments.selectors.dashboard import dashboard_sales
from payments.selectors.orders import OrderActions, order_actions_for
from payments.services.fulfilment import (
    OrderAlreadyCompleted,
    OrderAlreadyShipped,
    OrderNotCompletable,
    OrderNotShippable,
    order_completable,
    order_complete,
    order_ship,
    order_shippable,
)
from payments.services.refunds import order_paid_refundable, order_refundable_status
from payments.tests.factories import OrderFactory, RefundFactory

S = OrderStatus

# (status, shipped, confirmed) -> (seller ships, buyer confirms receipt, seller refunds)
CASES = {
    (S.PENDING_PAYMENT, False, False): (False, False, False),
    (S.PAYMENT_FAILED, False, False): (False, False, False),
    (S.CANCELLED, False, False): (False, False, False),
    (S.PAID, False, False): (True, False, True),
    (S.SHIPPED, True, False): (False, True, True),
    (S.COMPLETED, True, True): (False, False, True),
    (S.PARTIALLY_REFUNDED, False, False): (True, False, True),
    (S.PARTIALLY_REFUNDED, True, False): (False, True, True),
    (S.PARTIALLY_REFUNDED, True, True): (False, False, True),
    (S.REFUNDED, False, False): (False, False, False),
    (S.REFUNDED, True, False): (False, False, False),
    (S.DISPUTED, False, False): (False, False, False),
    (S.DISPUTED, True, False): (False, False, False),
    (S.DISPUTE_LOST, True, False): (False, False, False),
}
CASE_IDS = [f"{status}{'-shipped' if shipped else ''}{'-confirmed' if done else ''}"
            for status, shipped, done in CASES]


def test_every_status_is_covered():
    assert {status for status, _shipped, _done in CASES} == set(S.values)


def unsaved(status, shipped=False, done=False) -> Order:
    now = timezone.now()
    return Order(status=status, shipped_at=now if shipped else None, completed_at=now if done else None)


# -- the predicates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "expected"), CASES.items(), ids=CASE_IDS)
def test_the_service_predicates_for_each_status(case, expected):
    order = unsaved(*case)
    ships, confirms, refunds = expected

    assert order_shippable(order=order) is ships
    assert order_completable(order=order) is confirms
    assert order_paid_refundable(order=order) is refunds
    if case[0] != S.DISPUTED:  # a dispute's refund depends on the dispute (disputes/tests)
        assert order_refundable_status(order=order) is refunds


# -- the services follow their predicates ------------------------------------------------------


def saved(status, shipped=False, done=False, **factory) -> Order:
    order = OrderFactory(status=status, reserved_until=None, shipped_at=None, completed_at=None, **factory)
    now = timezone.now()
    order.shipped_at = now if shipped else None
    order.completed_at = now if done else None
    order.save(update_fields=["shipped_at", "completed_at"])
    return order


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "expected"), CASES.items(), ids=CASE_IDS)
def test_ship_and_confirm_receipt_do_what_the_predicates_say(case, expected):
    ships, confirms, _refunds = expected
    order = saved(*case)

    if ships:
        assert order_ship(order_id=order.pk, seller=order.seller).status == S.SHIPPED
    else:
        with pytest.raises((OrderNotShippable, OrderAlreadyShipped)):
            order_ship(order_id=order.pk, seller=order.seller)

    order = saved(*case)
    if confirms:
        assert order_complete(order_id=order.pk, buyer=order.buyer).status == S.COMPLETED
    else:
        with pytest.raises((OrderNotCompletable, OrderAlreadyCompleted)):
            order_complete(order_id=order.pk, buyer=order.buyer)


# -- the selector --------------------------------------------------------------------------------


NOTHING = OrderActions(can_ship=False, can_complete=False, can_refund=False, can_relist=False)


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "expected"), CASES.items(), ids=CASE_IDS)
def test_the_seller_buyer_and_a_stranger_each_get_their_own_actions(case, expected):
    ships, confirms, refunds = expected
    order = saved(*case)

    seller = order_actions_for(order=order, user=order.seller)
    buyer = order_actions_for(order=order, user=order.buyer)

    assert (seller.can_ship, seller.can_complete, seller.can_refund) == (ships, False, refunds)
    assert (buyer.can_ship, buyer.can_complete, buyer.can_refund) == (False, confirms, False)
    assert not buyer.can_relist
    assert order_actions_for(order=order, user=UserFactory()) == NOTHING
    assert order_actions_for(order=order, user=AnonymousUser()) == NOTHING


def refunded_after_shipping(**kwargs) -> Order:
    order = saved(S.REFUNDED, shipped=True, **kwargs)
    order.paid_at = timezone.now()
    order.save(update_fields=["paid_at"])
    order.listing.status = ListingStatus.SOLD
    order.listing.save(update_fields=["status"])
    return order


@pytest.mark.django_db
def test_only_the_seller_puts_the_stub_of_a_shipped_order_refunded_in_full_back_on_sale():
    order = refunded_after_shipping()

    assert order_actions_for(order=order, user=order.seller) == OrderActions(
        can_ship=False, can_complete=False, can_refund=False, can_relist=True
    )
    assert order_actions_for(order=order, user=order.buyer) == NOTHING
    assert order_actions_for(order=order, user=UserFactory()) == NOTHING


@pytest.mark.django_db
def test_no_relist_while_the_refund_is_pending_or_once_the_stub_is_on_sale_again():
    pending = refunded_after_shipping()
    RefundFactory(order=pending, status=RefundStatus.PENDING)
    on_sale = refunded_after_shipping()
    on_sale.listing.status = ListingStatus.ACTIVE
    on_sale.listing.save(update_fields=["status"])

    for order in (Order.objects.get(pk=pending.pk), on_sale):
        assert order_actions_for(order=order, user=order.seller).can_relist is False


# -- the order page and the dashboard read the selector ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "expected"), CASES.items(), ids=CASE_IDS)
def test_the_order_page_offers_each_reader_what_the_selector_says(client, case, expected):
    ships, confirms, refunds = expected
    order = saved(*case)
    url = reverse("payments_pages:order_detail", args=[order.pk])

    client.force_login(order.seller)
    as_seller = client.get(url)
    client.force_login(order.buyer)
    as_buyer = client.get(url)
    client.force_login(UserFactory())
    as_stranger = client.get(url)

    keys = ("can_ship", "can_complete", "can_refund", "can_relist")
    assert [as_seller.context[key] for key in keys] == [ships, False, refunds, False]
    assert [as_buyer.context[key] for key in keys] == [False, confirms, False, False]
    assert as_stranger.status_code == 404
    seller_page = as_seller.content.decode()
    assert (f'action="/payments/orders/{order.pk}/ship/"' in seller_page) is ships
    assert (f'action="/payments/orders/{order.pk}/refund/"' in seller_page) is refunds
    assert (f'action="/payments/orders/{order.pk}/complete/"' in as_buyer.content.decode()) is confirms


@pytest.mark.django_db
def test_the_dashboard_offers_the_same_ship_and_relist_buttons_as_the_order_page(client):
    seller = NewSellerFactory()
    to_ship = OrderFactory(listing__seller=seller, status=S.PAID, reserved_until=None)
    shipped = OrderFactory(listing__seller=seller, status=S.SHIPPED, reserved_until=None)
    came_back = refunded_after_shipping(listing__seller=seller)

    rows = {order.pk: order for order in dashboard_sales(seller=seller)}
    client.force_login(seller)
    page = client.get("/dashboard/").content.decode()

    for order in (to_ship, shipped, came_back):
        assert rows[order.pk].actions == order_actions_for(order=Order.objects.get(pk=order.pk), user=seller)
    assert rows[to_ship.pk].actions.can_ship and rows[came_back.pk].actions.can_relist
    assert f'action="/payments/orders/{to_ship.pk}/ship/"' in page
    assert f'action="/payments/orders/{shipped.pk}/ship/"' not in page
    assert f'action="/payments/orders/{came_back.pk}/relist/"' in page
