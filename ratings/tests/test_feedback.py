"""Ratings and feedback. Who can rate (the buyer of a completed, not-refunded order,
kept by the database too), once per order, the seller's one answer, staff hiding abuse
(audited), and the seller's reputation on the seller and listing pages."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent, OrderStatus
from payments.services.fulfilment import OrderNotFound
from payments.tests.factories import OrderFactory, PaidOrderFactory
from ratings.models import Feedback, SellerRating
from ratings.selectors import seller_reputation
from ratings.services import (
    FeedbackAlreadyAnswered,
    FeedbackAlreadyLeft,
    FeedbackNotAllowed,
    feedback_leave,
    feedback_reply,
    feedback_set_hidden,
)

pytestmark = pytest.mark.django_db


def completed(**kwargs):
    return PaidOrderFactory(status=OrderStatus.COMPLETED, **kwargs)


def rate(client, order, rating=5, comment="Arrived flat and fast.", **kwargs):
    url = f"/payments/orders/{order.pk}/feedback/"
    return client.post(url, {"rating": rating, "comment": comment}, **kwargs)


# -- who can rate ---------------------------------------------------------------------------------


def test_the_buyer_of_a_completed_order_rates_the_seller(client):
    order = completed()
    client.force_login(order.buyer)

    response = rate(client, order, rating=4)

    assert response.status_code == 302 and response.url == f"/orders/{order.pk}/#feedback"
    feedback = Feedback.objects.get()
    assert (feedback.order, feedback.buyer, feedback.seller, feedback.rating) == (
        order, order.buyer, order.seller, 4
    )
    summary = SellerRating.objects.get(seller=order.seller)
    assert (summary.count, summary.average) == (1, 4)
    assert AuditEvent.objects.filter(action="feedback.left", order=order, actor=order.buyer).count() == 1


@pytest.mark.parametrize("status", [
    OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.REFUNDED,
    OrderStatus.PARTIALLY_REFUNDED, OrderStatus.DISPUTED, OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED,
])
def test_only_a_completed_order_can_be_rated(client, status):
    order = OrderFactory(status=status)
    client.force_login(order.buyer)

    response = rate(client, order, HTTP_ACCEPT="application/json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "feedback_not_allowed"
    assert not Feedback.objects.exists()


def test_the_seller_or_a_stranger_cannot_rate_the_order(client):
    order = completed()
    for who in (order.seller, UserFactory()):
        client.force_login(who)
        response = rate(client, order, HTTP_ACCEPT="application/json")
        assert response.status_code == 404
    assert not Feedback.objects.exists()


def test_anonymous_rating_is_refused(client):
    order = completed()
    response = rate(client, order, HTTP_ACCEPT="application/json")
    assert response.status_code in (401, 403)
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("rating", [0, 6, "abc", ""])
def test_a_rating_outside_1_to_5_is_a_400(client, rating):
    order = completed()
    client.force_login(order.buyer)

    response = client.post(
        f"/payments/orders/{order.pk}/feedback/", data=json.dumps({"rating": rating}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert not Feedback.objects.exists()


def test_a_too_long_comment_is_a_400(client):
    order = completed()
    client.force_login(order.buyer)
    response = rate(client, order, comment="x" * 1001, HTTP_ACCEPT="application/json")
    assert response.status_code == 400


def test_the_database_refuses_feedback_for_an_order_that_is_not_completed():
    order = PaidOrderFactory(status=OrderStatus.SHIPPED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(order=order, buyer=order.buyer, seller=order.seller, rating=5)


def test_the_database_refuses_feedback_by_someone_other_than_the_buyer():
    order = completed()
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(order=order, buyer=UserFactory(), seller=order.seller, rating=5)


def test_the_database_refuses_a_refunded_order_even_without_the_service():
    order = PaidOrderFactory(status=OrderStatus.REFUNDED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(order=order, buyer=order.buyer, seller=order.seller, rating=1)


def test_the_database_refuses_a_rating_outside_1_to_5():
    order = completed()
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(order=order, buyer=order.buyer, seller=order.seller, rating=6)


# -- once per order -------------------------------------------------------------------------------


def test_a_double_click_rates_once(client):
    order = completed()
    client.force_login(order.buyer)

    rate(client, order, rating=5)
    second = rate(client, order, rating=1)

    assert second.status_code == 302
    assert list(Feedback.objects.values_list("rating", flat=True)) == [5]


def test_rating_twice_by_json_is_a_409(client):
    order = completed()
    client.force_login(order.buyer)
    rate(client, order)
    response = rate(client, order, HTTP_ACCEPT="application/json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "feedback_already_left"


def test_the_database_keeps_one_feedback_per_order():
    order = completed()
    Feedback.objects.create(order=order, buyer=order.buyer, seller=order.seller, rating=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.create(order=order, buyer=order.buyer, seller=order.seller, rating=1)


def test_the_service_says_already_left_and_not_allowed_plainly():
    order = completed()
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=3)
    with pytest.raises(FeedbackAlreadyLeft):
        feedback_leave(order_id=order.pk, buyer=order.buyer, rating=3)
    shipped = PaidOrderFactory(status=OrderStatus.SHIPPED)
    with pytest.raises(FeedbackNotAllowed):
        feedback_leave(order_id=shipped.pk, buyer=shipped.buyer, rating=3)
    with pytest.raises(OrderNotFound):
        feedback_leave(order_id=order.pk, buyer=order.seller, rating=3)


# -- the seller's answer --------------------------------------------------------------------------


def test_the_seller_answers_once(client):
    order = completed()
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=2, comment="Creased corner.")
    client.force_login(order.seller)

    first = client.post(f"/payments/orders/{order.pk}/feedback/reply/", {"reply": "Sorry! Refund offered."})
    second = client.post(
        f"/payments/orders/{order.pk}/feedback/reply/", {"reply": "Changed my mind"},
        HTTP_ACCEPT="application/json",
    )

    assert first.status_code == 302
    assert second.status_code == 409 and second.json()["error"]["code"] == "feedback_already_answered"
    feedback = Feedback.objects.get()
    assert feedback.reply == "Sorry! Refund offered." and feedback.replied_at is not None


def test_only_the_seller_answers():
    order = completed()
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=2)
    from ratings.services import FeedbackNotFound

    for who in (order.buyer, SellerFactory()):
        with pytest.raises(FeedbackNotFound):
            feedback_reply(order_id=order.pk, seller=who, reply="Hi")
    feedback_reply(order_id=order.pk, seller=order.seller, reply="Thanks")
    with pytest.raises(FeedbackAlreadyAnswered):
        feedback_reply(order_id=order.pk, seller=order.seller, reply="Again")


# -- hidden feedback ------------------------------------------------------------------------------


def test_staff_hide_abusive_feedback_audited_and_out_of_the_average(client):
    order = completed()
    other = completed(listing=ListingFactory(seller=order.seller))
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=1, comment="ABUSIVE WORDS")
    feedback_leave(order_id=other.pk, buyer=other.buyer, rating=5, comment="Lovely")
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789")
    client.force_login(staff)
    feedback = Feedback.objects.get(order=order)

    response = client.post("/admin/ratings/feedback/", {
        "action": "hide_feedback", "_selected_action": [feedback.pk],
    })

    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.hidden
    assert AuditEvent.objects.filter(action="feedback.hidden", actor=staff, order=order).count() == 1
    summary = SellerRating.objects.get(seller=order.seller)
    assert (summary.count, summary.average) == (1, 5)
    page = client.get(f"/sellers/{order.seller.username}/").content.decode()
    assert "ABUSIVE WORDS" not in page and "Lovely" in page


def test_staff_show_hidden_feedback_again_from_the_change_form(client):
    order = completed()
    feedback = feedback_leave(order_id=order.pk, buyer=order.buyer, rating=1)
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789")
    feedback_set_hidden(feedback_id=feedback.pk, staff=staff, hidden=True, reason="Slurs")
    client.force_login(staff)

    response = client.post(f"/admin/ratings/feedback/{feedback.pk}/change/", {"hidden_reason": ""})

    assert response.status_code == 302
    feedback.refresh_from_db()
    assert not feedback.hidden
    assert AuditEvent.objects.filter(action="feedback.shown").count() == 1


def test_a_non_staff_user_cannot_hide_feedback():
    from ratings.services import FeedbackNotFound

    order = completed()
    feedback = feedback_leave(order_id=order.pk, buyer=order.buyer, rating=1)
    with pytest.raises(FeedbackNotFound):
        feedback_set_hidden(feedback_id=feedback.pk, staff=order.seller, hidden=True)


def test_admin_cannot_add_or_delete_feedback(client):
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789")
    client.force_login(staff)
    assert client.get("/admin/ratings/feedback/add/").status_code == 403


# -- pages ----------------------------------------------------------------------------------------


def test_after_confirming_receipt_the_order_page_asks_for_a_rating(client):
    order = completed()
    client.force_login(order.buyer)

    html = client.get(f"/orders/{order.pk}/").content.decode()

    assert f'action="/payments/orders/{order.pk}/feedback/"' in html
    assert 'name="rating"' in html


def test_no_rating_form_before_completion_or_for_the_seller(client):
    shipped = PaidOrderFactory(status=OrderStatus.SHIPPED)
    client.force_login(shipped.buyer)
    assert 'name="rating"' not in client.get(f"/orders/{shipped.pk}/").content.decode()
    done = completed()
    client.force_login(done.seller)
    assert 'name="rating"' not in client.get(f"/orders/{done.pk}/").content.decode()


def test_seller_and_listing_pages_show_average_count_recent_feedback_and_sales(client):
    seller = SellerFactory()
    for rating, words in ((5, "Perfect stub"), (4, "Good packing")):
        order = completed(listing=ListingFactory(seller=seller))
        feedback_leave(order_id=order.pk, buyer=order.buyer, rating=rating, comment=words)
    PaidOrderFactory(listing=ListingFactory(seller=seller), status=OrderStatus.REFUNDED)
    on_sale = ListingFactory(seller=seller)
    other = ListingFactory(seller=seller)

    seller_page = client.get(f"/sellers/{seller.username}/").content.decode()
    listing_page = client.get(f"/listings/{on_sale.pk}/")

    for html in (seller_page, listing_page.content.decode()):
        assert "4.50" in html and "from 2 ratings" in html
        assert "2 stubs sold" in html  # the refunded one is no sale
        assert "Perfect stub" in html and "Good packing" in html
    more = listing_page.context["more_from_seller"]
    assert other in more and on_sale not in more
    assert "More from this seller" in listing_page.content.decode()


def test_a_seller_without_ratings_says_so(client):
    seller = SellerFactory()
    html = client.get(f"/sellers/{seller.username}/").content.decode()
    assert "No ratings yet" in html and "0 stubs sold" in html


# -- browse by seller rating ----------------------------------------------------------------------


def _rated_seller(rating):
    seller = SellerFactory()
    order = completed(listing=ListingFactory(seller=seller))
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=rating)
    return seller, ListingFactory(seller=seller)


def test_browse_sorts_by_seller_rating_with_unrated_sellers_last(client):
    unrated = ListingFactory()
    _, good = _rated_seller(5)
    _, poor = _rated_seller(2)

    listings = list(client.get("/", {"sort": "seller_rating"}).context["listings"])

    assert listings == [good, poor, unrated]


def test_browse_filters_by_minimum_seller_rating(client):
    ListingFactory()
    _, good = _rated_seller(5)
    _rated_seller(3)

    response = client.get("/", {"min_rating": "4"})

    assert list(response.context["listings"]) == [good]
    assert client.get("/", {"min_rating": "9"}).status_code == 400  # not a choice: a form error


def test_hidden_feedback_leaves_cached_anonymous_pages_at_once(client, settings):
    settings.PAGE_CACHE_SECONDS = 300
    order = completed()
    feedback = feedback_leave(order_id=order.pk, buyer=order.buyer, rating=1, comment="RUDE WORDS")
    url = f"/sellers/{order.seller.username}/"
    assert "RUDE WORDS" in client.get(url).content.decode()  # now cached for anonymous visitors
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789")

    feedback_set_hidden(feedback_id=feedback.pk, staff=staff, hidden=True, reason="Abuse")

    assert "RUDE WORDS" not in client.get(url).content.decode()


# -- the reputation cache ---------------------------------------------------------------------------


def test_the_reputation_is_read_once_until_the_catalogue_changes(settings, django_assert_num_queries):
    settings.PAGE_CACHE_SECONDS = 300
    order = completed()
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=4, comment="Fine.")
    with django_assert_num_queries(2):  # the summary with the stubs sold, the feedback
        first = seller_reputation(seller_id=order.seller_id)
    with django_assert_num_queries(0):
        again = seller_reputation(seller_id=order.seller_id, recent=1)
    assert (first.average, first.count, first.stubs_sold) == (4, 1, 1)
    assert (again.average, again.count, again.stubs_sold) == (4, 1, 1)
    assert [item.comment for item in again.recent] == ["Fine."]

    second = completed(seller=order.seller)
    feedback_leave(order_id=second.pk, buyer=second.buyer, rating=2, comment="Bent corner.")

    fresh = seller_reputation(seller_id=order.seller_id)
    assert (fresh.average, fresh.count, fresh.stubs_sold) == (3, 2, 2)
    assert [item.comment for item in fresh.recent] == ["Bent corner.", "Fine."]


def test_hidden_feedback_leaves_the_cached_reputation_at_once(settings):
    settings.PAGE_CACHE_SECONDS = 300
    order = completed()
    feedback = feedback_leave(order_id=order.pk, buyer=order.buyer, rating=1, comment="RUDE WORDS")
    assert seller_reputation(seller_id=order.seller_id).count == 1
    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456789")

    feedback_set_hidden(feedback_id=feedback.pk, staff=staff, hidden=True, reason="Abuse")

    reputation = seller_reputation(seller_id=order.seller_id)
    assert reputation.count == 0 and reputation.recent == []


def test_the_cached_reputation_holds_the_buyers_name_and_nothing_else_of_them(settings):
    settings.PAGE_CACHE_SECONDS = 300
    order = completed(buyer=UserFactory(first_name="Ada"))
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=5, comment="Lovely.")
    item = seller_reputation(seller_id=order.seller_id).recent[0]

    assert item.buyer.first_name == "Ada" and item.order.listing.stub.event_name
    assert {"password", "email"} <= item.buyer.get_deferred_fields()


def test_without_the_page_cache_the_reputation_is_read_every_time(settings, django_assert_num_queries):
    settings.PAGE_CACHE_SECONDS = 0
    order = completed()
    seller_reputation(seller_id=order.seller_id)
    with django_assert_num_queries(1):  # no feedback: the summary with the stubs sold only
        seller_reputation(seller_id=order.seller_id)
