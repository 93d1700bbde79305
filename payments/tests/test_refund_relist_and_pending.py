"""A full refund of a shipped order leaves the stub off sale until its seller puts it back
(POST /payments/orders/<id>/relist/); a refund Stripe has not finished reads "Refund pending"
everywhere, never "Refunded", and the buyer hears "on its way", then "refunded"."""

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from marketplace.models import ListingStatus
from payments.models import OrderStatus, RefundStatus
from payments.services.fulfilment import order_ship
from payments.staff import FINANCE
from payments.tests.factories import staff_member
from payments.tests.test_refunds import (
    paid,
    post_refund,
    refunded_in_full_by_the_seller,
)
from payments.tests.webhook_support import deliver
from testing import paid_snapshot

pytestmark = pytest.mark.django_db


def relist_url(order):
    return f"/payments/orders/{order.pk}/relist/"


def _shipped_and_refunded_build(sandbox) -> int:
    """Paid, shipped, then refunded in full by its seller; the outbox holds only the refund's
    emails."""
    from django.test import Client, TestCase

    order = paid(sandbox, price_cents=2000)
    order_ship(order_id=order.pk, seller=order.seller, tracking_number="1Z999", carrier="ups")
    client = Client()
    client.force_login(order.seller)
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        post_refund(client, order)
        sandbox.settle_refunds(order.refunds.get().stripe_refund_id)
        deliver(sandbox)
    return order.pk


@pytest.fixture
@paid_snapshot.shared(_shipped_and_refunded_build)
def shipped_and_refunded(webhook_sandbox, client, request):
    """The order above, made once for the tests that take it, each in its own savepoint
    (testing/paid_snapshot.py); `client` is logged in as its seller."""
    order = paid_snapshot.take(request, webhook_sandbox, client, _shipped_and_refunded_build)
    client.force_login(order.seller)
    return order


def test_a_full_refund_of_a_shipped_order_keeps_the_stub_off_sale_and_says_so(client, shipped_and_refunded):
    order = shipped_and_refunded

    assert (order.status, order.listing.status) == (OrderStatus.REFUNDED, ListingStatus.SOLD)
    assert order.audit_events.filter(action="listing.kept_off_sale").exists()
    seller_mail = [m for m in mail.outbox if m.to == [order.seller.email] and "refunded" in m.subject]
    buyer_mail = [m for m in mail.outbox if m.to == [order.buyer.email] and "refunded" in m.subject]
    assert "stays off sale: if it comes back to you, put it back on sale" in seller_mail[0].body
    assert "already shipped to you, so it stays off sale" in buyer_mail[0].body
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Put it back on sale" in page
    assert "Put it back on sale" in client.get("/dashboard/").content.decode()


def test_the_seller_puts_the_returned_stub_back_on_sale_once_and_a_double_click_is_told(
    client, shipped_and_refunded
):
    order = shipped_and_refunded

    first = client.post(relist_url(order), follow=True)
    second = client.post(relist_url(order), follow=True)
    as_json = client.post(relist_url(order), content_type="application/json", HTTP_ACCEPT="application/json")

    order.listing.refresh_from_db()
    assert order.listing.status == ListingStatus.ACTIVE
    assert "Your stub is back on sale." in first.content.decode()
    assert "already back on sale" in second.content.decode()
    assert (as_json.status_code, as_json.json()["error"]["code"]) == (409, "listing_already_on_sale")
    assert order.audit_events.filter(action="listing.relisted").count() == 1


@pytest.mark.parametrize("who", ["stranger", "buyer", "staff"])
def test_nobody_but_the_seller_can_relist_and_learns_nothing(client, shipped_and_refunded, who):
    order = shipped_and_refunded
    user = {"stranger": UserFactory(), "buyer": order.buyer, "staff": staff_member(FINANCE)}[who]
    client.force_login(user)

    response = client.post(relist_url(order), content_type="application/json", HTTP_ACCEPT="application/json")

    assert response.status_code == 404
    order.listing.refresh_from_db()
    assert order.listing.status == ListingStatus.SOLD


def test_an_anonymous_relist_is_403_and_a_get_is_405(client, webhook_sandbox):
    order = paid(webhook_sandbox)

    assert client.post(relist_url(order), content_type="application/json").status_code == 403
    client.force_login(order.seller)
    assert client.get(relist_url(order)).status_code == 405


def test_a_stub_is_not_relisted_by_hand_before_the_order_is_refunded_in_full_or_while_it_is_pending(
    client, webhook_sandbox
):
    order = paid(webhook_sandbox, price_cents=2000, funds_available=False)
    order_ship(order_id=order.pk, seller=order.seller, tracking_number="1Z999", carrier="ups")
    client.force_login(order.seller)

    not_refunded = client.post(relist_url(order), HTTP_ACCEPT="application/json",
                               content_type="application/json")
    post_refund(client, order)  # waits: the seller's balance cannot cover it yet
    deliver(webhook_sandbox)
    pending = client.post(relist_url(order), HTTP_ACCEPT="application/json", content_type="application/json")
    form = client.post(relist_url(order), follow=True)

    assert (not_refunded.status_code, not_refunded.json()["error"]["code"]) == (409, "order_not_relistable")
    assert pending.status_code == 409 and "still pending" in pending.json()["error"]["message"]
    assert "still pending" in form.content.decode()
    order.listing.refresh_from_db()
    assert order.listing.status == ListingStatus.SOLD


def test_an_unshipped_order_refunded_in_full_goes_back_on_sale_by_itself(client, webhook_sandbox):
    order = refunded_in_full_by_the_seller(client, webhook_sandbox)

    assert order.listing.status == ListingStatus.ACTIVE
    assert "Put it back on sale" not in client.get(f"/orders/{order.pk}/").content.decode()


def test_a_failed_refund_of_a_shipped_order_leaves_the_unrelisted_stub_with_the_buyer(
    client, webhook_sandbox
):
    order = paid(webhook_sandbox, card="pm_card_refundFail", price_cents=2000)
    order_ship(order_id=order.pk, seller=order.seller, tracking_number="1Z999", carrier="ups")
    client.force_login(order.seller)
    post_refund(client, order)
    webhook_sandbox.settle_refunds(order.refunds.get().stripe_refund_id)
    deliver(webhook_sandbox)

    webhook_sandbox.settle_refunds()  # "some time later": Stripe fails it
    deliver(webhook_sandbox)

    order.refresh_from_db()
    order.listing.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.listing.status == ListingStatus.SOLD
    assert order.attention_reason == ""


def test_a_pending_refund_reads_refund_pending_everywhere_until_stripe_says_succeeded(
    client, admin_client, webhook_sandbox, django_capture_on_commit_callbacks
):
    order = paid(webhook_sandbox, funds_available=False)
    client.force_login(order.seller)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        post_refund(client, order, {"amount": 1000, "buyer_note": "Sorry for the crease."})
        deliver(webhook_sandbox)

    assert order.refunds.get().status == RefundStatus.PENDING
    seller_views = [client.get(f"/orders/{order.pk}/"), client.get("/orders/"), client.get("/dashboard/")]
    client.force_login(order.buyer)
    buyer_views = [client.get(f"/orders/{order.pk}/"), client.get("/orders/")]
    admin_list = admin_client.get("/admin/payments/order/").content.decode()
    for response in [*seller_views, *buyer_views]:
        page = response.content.decode()
        assert "Refund pending" in page and "Partially refunded" not in page, response.request["PATH_INFO"]
    assert '<td class="field-status_badge"><span class="badge badge-warn">Refund pending</span>' in admin_list
    assert "on its way" in buyer_views[0].content.decode()
    on_its_way = [m for m in mail.outbox if m.to == [order.buyer.email]]
    assert len(on_its_way) == 1 and f"Order #{order.pk}: refund of $10.00 on its way" in on_its_way[0].subject
    assert "Refund of $10.00 on its way" in on_its_way[0].body
    assert "Sorry for the crease." in on_its_way[0].body
    assert "balance" not in on_its_way[0].body and "balance" not in on_its_way[0].alternatives[0][0]
    to_seller = [m for m in mail.outbox if m.to == [order.seller.email] and "pending" in m.subject]
    assert len(to_seller) == 1 and "once your Stripe balance has enough" in to_seller[0].body

    mail.outbox.clear()
    webhook_sandbox.settle_refunds(order.refunds.get().stripe_refund_id)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(webhook_sandbox)

    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'id="order-status-badge">Partially refunded<' in page and "Refund pending" not in page
    assert 'id="refunded">$10.00<' in page
    arrived = [m for m in mail.outbox if m.to == [order.buyer.email]]
    assert len(arrived) == 1 and "$10.00 refunded to your card" in arrived[0].subject
    assert "Sorry for the crease." in arrived[0].body


def test_a_full_refund_that_waits_never_says_refunded_to_the_buyer(client, webhook_sandbox):
    order = paid(webhook_sandbox, funds_available=False)
    client.force_login(order.seller)
    post_refund(client, order)
    deliver(webhook_sandbox)
    client.force_login(order.buyer)

    page = client.get(f"/orders/{order.pk}/").content.decode()
    listing = client.get("/orders/").content.decode()
    status = client.get(f"/payments/orders/{order.pk}/status/", HTTP_ACCEPT="application/json").json()

    assert order.refunds.get().status == RefundStatus.PENDING
    assert 'id="order-status-badge">Refund pending<' in page
    assert ">Refunded<" not in page and ">Refunded<" not in listing
    assert "Refund requested" in page  # the timeline: asked for, not yet back
    assert status["status_display"] == "Refund pending"
