"""A rating counts only while its order stands: a full refund or a lost dispute (through the
sandbox and the real webhooks) takes it out of the seller's average and off the public pages;
it is kept, marked with the reason, for staff. A partial refund leaves it counted."""

import pytest

from accounts.tests.factories import UserFactory
from payments.models import AuditEvent, OrderStatus
from payments.services.fulfilment import order_complete, order_ship
from payments.services.orders import order_transition
from payments.tests.factories import PaidOrderFactory
from payments.tests.webhook_support import deliver, pay, sandbox_order
from ratings.models import Feedback, FeedbackExclusion, SellerRating
from ratings.selectors import seller_reputation
from ratings.services import feedback_leave
from testing import paid_snapshot

pytestmark = pytest.mark.django_db


def _rated_build(sandbox) -> int:
    order = sandbox_order(sandbox)
    pay(order)
    deliver(sandbox)
    sandbox.advance_time(8 * 24 * 3600)  # the sale's money is available
    order_ship(order_id=order.pk, seller=order.seller, tracking_number="1Z999AA10123456784", carrier="ups")
    order_complete(order_id=order.pk, buyer=order.buyer)
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=5, comment="Perfect, five stars.")
    other = PaidOrderFactory(status=OrderStatus.COMPLETED, listing__seller=order.seller)
    feedback_leave(order_id=other.pk, buyer=other.buyer, rating=3, comment="Took a while.")
    return order.pk


@pytest.fixture
@paid_snapshot.shared(_rated_build)
def rated(webhook_sandbox, client, request):
    """A completed sandbox order rated 5, and another order of the same seller rated 3; made
    once for the tests that take it, each in its own savepoint (testing/paid_snapshot.py). The
    reputation is read here, so each test starts with it cached (the cache is emptied between
    tests)."""
    order = paid_snapshot.take(request, webhook_sandbox, client, _rated_build)
    assert average(order.seller) == (2, 4)
    assert len(seller_reputation(seller_id=order.seller_id).recent) == 2  # and cached
    return order


def average(seller):
    summary = SellerRating.objects.get(seller=seller)
    return summary.count, summary.average


def refund(client, order, body=None):
    client.force_login(order.seller)
    url = f"/payments/orders/{order.pk}/refund/"
    response = client.post(url, body or {}, content_type="application/json")
    assert response.status_code == 201, response.content


def test_a_full_refund_takes_the_rating_out_of_the_sellers_average(client, webhook_sandbox, rated):
    refund(client, rated)
    webhook_sandbox.settle_refunds()
    deliver(webhook_sandbox)

    rated.refresh_from_db()
    assert rated.status == OrderStatus.REFUNDED
    assert average(rated.seller) == (1, 3)
    feedback = Feedback.objects.get(order=rated)
    assert feedback.excluded_reason == FeedbackExclusion.REFUNDED and feedback.excluded_at is not None
    assert feedback.rating == 5  # kept for staff
    comments = [item.comment for item in seller_reputation(seller_id=rated.seller_id).recent]
    assert comments == ["Took a while."]
    assert AuditEvent.objects.filter(action="feedback.excluded", order=rated).count() == 1


def test_the_seller_page_no_longer_shows_a_refunded_orders_rating(client, webhook_sandbox, rated):
    refund(client, rated)
    webhook_sandbox.settle_refunds()
    deliver(webhook_sandbox)
    client.logout()

    page = client.get(f"/sellers/{rated.seller.username}/").content.decode()

    assert "Took a while." in page and "Perfect, five stars." not in page


def test_a_partial_refund_leaves_the_rating_counted(client, webhook_sandbox, rated):
    refund(client, rated, {"amount": 1000})
    webhook_sandbox.settle_refunds()
    deliver(webhook_sandbox)

    rated.refresh_from_db()
    assert rated.status == OrderStatus.PARTIALLY_REFUNDED
    assert average(rated.seller) == (2, 4)
    assert Feedback.objects.get(order=rated).excluded_reason == ""


def test_a_lost_dispute_takes_the_rating_out_of_the_sellers_average(webhook_sandbox, rated):
    dispute = webhook_sandbox.open_dispute(rated.payment.charge_id)
    deliver(webhook_sandbox)
    assert average(rated.seller) == (2, 4)  # open: the bank has not decided yet

    webhook_sandbox.resolve_dispute(dispute["id"], "lost")
    deliver(webhook_sandbox)

    rated.refresh_from_db()
    assert rated.status == OrderStatus.DISPUTE_LOST
    assert average(rated.seller) == (1, 3)
    assert Feedback.objects.get(order=rated).excluded_reason == FeedbackExclusion.DISPUTE_LOST


def test_a_won_dispute_leaves_the_rating_counted(webhook_sandbox, rated):
    dispute = webhook_sandbox.open_dispute(rated.payment.charge_id)
    deliver(webhook_sandbox)
    webhook_sandbox.resolve_dispute(dispute["id"], "won")
    deliver(webhook_sandbox)

    assert average(rated.seller) == (2, 4)


def test_a_rating_counts_again_when_the_full_refund_fails():
    order = PaidOrderFactory(status=OrderStatus.COMPLETED)
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=5)
    order_transition(order=order, to=OrderStatus.REFUNDED)
    assert average(order.seller) == (0, 0)

    order_transition(order=order, to=OrderStatus.COMPLETED, message="The refund failed")

    assert average(order.seller) == (1, 5)
    assert Feedback.objects.get(order=order).excluded_reason == ""
    assert AuditEvent.objects.filter(action="feedback.counted_again", order=order).count() == 1


def test_staff_see_an_excluded_rating_and_why_in_admin(client):
    order = PaidOrderFactory(status=OrderStatus.COMPLETED)
    feedback = feedback_leave(order_id=order.pk, buyer=order.buyer, rating=5)
    order_transition(order=order, to=OrderStatus.REFUNDED)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing_page = client.get("/admin/ratings/feedback/", {"excluded_reason__exact": "refunded"})
    detail = client.get(f"/admin/ratings/feedback/{feedback.pk}/change/")

    assert f"/admin/ratings/feedback/{feedback.pk}/change/" in listing_page.content.decode()
    assert "Order refunded in full" in detail.content.decode()
