import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import call_command

from demo.sold_prices import POPULAR_EVENTS, SALES_PER_EVENT
from marketplace.models import Category, Listing

pytestmark = pytest.mark.django_db


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, "--buyer-password", "buyer-pass", "--staff-password", "staff-pass",
                 stdout=out)
    return out.getvalue()


def test_seed_demo_onboards_sellers_lists_stubs_once_and_its_orders_are_refundable_payments(
        stripe_sandbox, client):
    """One full seed (~4 s) serves both checks: what it creates, and that its orders are real
    sandbox payments staff can refund (after the second, idempotent run, so that run must not
    have touched them either)."""
    output = seed()

    users = get_user_model().objects
    sellers = users.filter(is_seller=True)
    assert sellers.count() == 5
    assert sum(seller.can_accept_payments for seller in sellers) == 4  # one left halfway on purpose
    halfway = users.get(username="chloe_martin")
    assert halfway.stripe_account_id and not halfway.can_accept_payments
    assert all(seller.seller_bio for seller in sellers)

    listings = Listing.objects.select_related("stub")
    assert listings.count() >= 60
    assert set(listings.values_list("stub__category", flat=True)) == set(Category.values)
    for listing in listings[:5]:
        assert default_storage.exists(listing.stub.photo.name)
        assert default_storage.exists(listing.stub.thumbnail.name)
    # A few have sold; of the demo offers' listings one is paid, one held, one withdrawn.
    assert Listing.objects.purchasable_now().count() >= 52
    from payments.models import Order, OrderStatus
    from ratings.models import Feedback

    statuses = sorted(Order.objects.values_list("status", flat=True))
    history = POPULAR_EVENTS * SALES_PER_EVENT  # the sold-price history's sales (demo.sold_prices)
    assert statuses.count(OrderStatus.COMPLETED) == 3 + history and statuses.count(OrderStatus.SHIPPED) == 1
    assert statuses.count(OrderStatus.REFUNDED) == 1  # its problem report was refunded in full
    assert Feedback.objects.count() == 3 and Feedback.objects.exclude(reply="").count() == 2
    assert all(order.tracking_url for order in Order.objects.exclude(status=OrderStatus.PAID))
    from messaging.models import Conversation, MessageReport

    assert Conversation.objects.filter(kind="listing").count() == 3
    assert Conversation.objects.filter(kind="order").count() == 3  # one of messages, two of problem reports
    assert MessageReport.objects.filter(kind="contact_details").count() == 1  # Support's queue has one
    from problems.models import ProblemReport

    assert sorted(ProblemReport.objects.values_list("status", "outcome")) == [
        ("awaiting_seller", ""), ("closed", "refunded")]  # an open and a resolved report
    from offers.models import Offer

    assert set(Offer.objects.values_list("status", flat=True)) == {  # an offer in each state
        "pending", "countered", "accepted", "paid", "declined", "withdrawn", "expired", "void"}

    assert users.get(username="buyer").check_password("buyer-pass")
    staff = users.get(username="staff")
    assert staff.is_staff and staff.is_superuser and staff.check_password("staff-pass")
    assert "buyer / buyer-pass" in output and "staff / staff-pass" in output

    count = listings.count()
    again = seed()
    assert Listing.objects.count() == count
    assert users.filter(is_seller=True).count() == 5
    assert "already there" in again

    assert len(client.get("/").context["listings"]) > 0

    assert_demo_orders_are_sandbox_payments_that_staff_can_refund()


def test_seed_demo_without_stripe_creates_everything_and_bulk_listings_share_pictures():
    output = seed("--skip-stripe", "--listings", "250")
    assert "skipped" in output and "Bulk-created 250 listings" in output
    assert Listing.objects.count() >= 60 + 250
    assert not any(user.can_accept_payments for user in get_user_model().objects.filter(is_seller=True))
    bulk = Listing.objects.select_related("stub").order_by("-id")[:250]
    assert len({listing.stub.photo.name for listing in bulk}) <= len(Category.values)


def test_seed_demo_refuses_a_negative_count():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        seed("--skip-stripe", "--listings", "-1")


def test_the_demo_table_pairs_each_event_with_its_own_venue_city_and_year():
    import datetime

    from demo import catalogue as demo

    by_name = {}
    for event in demo.DEMO_EVENTS:
        by_name.setdefault(event.event_name, set()).add((event.venue, event.city))
        low, high = event.price_range
        assert 0 < low < high and event.date <= datetime.date.today()
    assert by_name["Papal Mass"] == {("Yankee Stadium", "New York")}
    assert by_name["Wimbledon Gentlemen's Final"] == {("All England Club", "London")}
    # Every category has at least seven real-looking events to draw from.
    assert all(len(events) >= 7 for events in demo.EVENTS.values())


def test_demo_prices_stay_within_what_each_event_fetches():
    import random

    from demo import catalogue as demo

    rng = random.Random(7)
    for event in demo.DEMO_EVENTS:
        for _ in range(5):
            stub = demo.demo_stub(rng, event.category, index=demo.EVENTS[event.category].index(event))
            expected = (event.event_name, event.venue, event.date)
            assert (stub.event_name, stub.venue, stub.event_date) == expected
            assert event.price_range[0] * 100 <= stub.price_cents <= event.price_range[1] * 100 + 99


def assert_demo_orders_are_sandbox_payments_that_staff_can_refund():
    import stripe

    from payments.models import Order, OrderStatus, RefundStatus
    from payments.services.refunds import refund_request

    orders = Order.objects.select_related("payment", "seller")
    assert orders.count() == 6 + POPULAR_EVENTS * SALES_PER_EVENT + 1  # the paid demo offer's
    for order in orders:
        intent = stripe.PaymentIntent.retrieve(order.payment_intent_id,
                                               stripe_account=order.stripe_account_id)
        assert intent.status == "succeeded" and intent.amount == order.amount_cents
        assert intent.latest_charge == order.payment.charge_id
        assert order.stripe_account_id == order.seller.stripe_account_id
    waiting = orders.filter(status=OrderStatus.PAID).order_by("pk").first()  # the paid offer's is later
    staff = get_user_model().objects.get(username="staff")

    refund = refund_request(order_id=waiting.pk, actor=staff)

    assert refund.status != RefundStatus.FAILED and refund.stripe_refund_id.startswith("re_")
    refunds = stripe.Refund.list(payment_intent=waiting.payment_intent_id,
                                 stripe_account=waiting.stripe_account_id)
    assert [r.id for r in refunds.data] == [refund.stripe_refund_id]
    assert refunds.data[0].amount == waiting.amount_cents


def test_demo_orders_stop_with_a_message_when_the_sandbox_does_not_answer(settings):
    import random

    import stripe

    from accounts.tests.factories import SellerFactory, UserFactory
    from demo import catalogue as demo
    from marketplace.models import ListingStatus
    from payments.models import Order

    seller = SellerFactory()
    rng = random.Random(3)
    listings = [demo.create_demo_listing(seller=seller, stub=demo.demo_stub(rng)) for _ in range(2)]
    settings.STRIPE_API_HOST = "http://127.0.0.1:9"
    saved = stripe.api_base, stripe.max_network_retries
    stripe.api_base, stripe.max_network_retries = "http://127.0.0.1:9", 0
    lines = []
    try:
        orders = demo.create_demo_orders(listings=listings, buyers=[UserFactory()], rng=random.Random(3),
                                         log=lines.append)
    finally:
        stripe.api_base, stripe.max_network_retries = saved

    assert orders == [] and len(lines) == 1 and "stop at 0" in lines[0]
    assert not Order.objects.filter(paid_at__isnull=False).exists()
    assert {listing.status for listing in Listing.objects.all()} == {ListingStatus.ACTIVE}  # back on sale
