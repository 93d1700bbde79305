"""Every messages route through the real views: who may read and post, bad input, double
submits, rate limits, the header count, reports and contact details flagged before a sale."""

import json

import pytest
from django.core import mail
from django.test import Client

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.models import ListingStatus
from messaging.models import MESSAGE_MAX_CHARS, Conversation, Message, MessageReport, Participant, ReportKind
from messaging.selectors import unread_count
from payments.models import AuditEvent, OrderStatus
from payments.tests.factories import OrderFactory, staff_member

pytestmark = pytest.mark.django_db


def post_json(client, path, body):
    return client.post(
        path, json.dumps(body), content_type="application/json", HTTP_ACCEPT="application/json"
    )


def ask(client, listing, body="Is the stub torn at all?"):
    return client.post(f"/listings/{listing.pk}/ask/", {"body": body})


def test_a_buyer_asks_a_question_and_the_seller_answers(login, buyer, seller, listing, committed):
    as_buyer, as_seller = login(buyer), login(seller)
    assert as_buyer.get(f"/listings/{listing.pk}/ask/").status_code == 200
    with committed():
        response = ask(as_buyer, listing)
    conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith(f"/messages/{conversation.pk}/#message-")
    assert (conversation.kind, conversation.buyer, conversation.seller) == ("listing", buyer, seller)

    inbox = as_seller.get("/messages/")
    assert "Is the stub torn at all?" in inbox.content.decode()
    assert (
        'id="nav-messages">Messages <span class="badge badge-warn" aria-label="1 unread">1</span>'
        in inbox.content.decode()
    )
    page = as_seller.get(f"/messages/{conversation.pk}/")
    assert page.status_code == 200 and "Is the stub torn at all?" in page.content.decode()
    with committed():
        answer = as_seller.post(f"/messages/{conversation.pk}/send/", {"body": "No, it is in fine shape."})
    assert answer.status_code == 302
    assert Participant.objects.get(user=seller).unread == 0
    assert Participant.objects.get(user=buyer).unread == 1
    assert unread_count(user=buyer) == 1 and unread_count(user=seller) == 0
    with committed():
        assert "No, it is in fine shape." in as_buyer.get(f"/messages/{conversation.pk}/").content.decode()
    assert unread_count(user=buyer) == 0


def test_asking_again_goes_to_the_same_conversation(login, buyer, listing):
    client = login(buyer)
    ask(client, listing)
    response = client.get(f"/listings/{listing.pk}/ask/")
    conversation = Conversation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/messages/{conversation.pk}/"
    ask(client, listing, "And the back?")
    assert Conversation.objects.count() == 1 and Message.objects.count() == 2


def test_a_seller_cannot_ask_about_their_own_listing(login, seller, listing):
    client = login(seller)
    assert client.get(f"/listings/{listing.pk}/ask/").status_code == 409
    assert ask(client, listing).status_code == 409
    assert not Conversation.objects.exists()


def test_a_listing_not_on_sale_takes_no_new_question(login, buyer, listing):
    listing.status = ListingStatus.SOLD
    listing.save(update_fields=["status"])
    client = login(buyer)
    assert client.get(f"/listings/{listing.pk}/ask/").status_code == 409
    assert ask(client, listing).status_code == 409
    listing.status = ListingStatus.WITHDRAWN
    listing.save(update_fields=["status"])
    assert ask(client, listing).status_code == 404
    assert client.get("/listings/999999999999999999999/ask/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(listing):
    client = Client()
    response = client.get(f"/listings/{listing.pk}/ask/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/messages/").status_code == 302
    assert post_json(client, "/messages/1/send/", {"body": "hi"}).status_code == 403


def test_nobody_but_the_two_parties_reads_or_posts(login, buyer, seller, listing, stranger):
    ask(login(buyer), listing)
    conversation = Conversation.objects.get()
    others = [stranger, UserFactory(), SellerFactory(), staff_member(is_superuser=True)]
    for user in others:
        client = login(user)
        assert client.get(f"/messages/{conversation.pk}/").status_code == 404
        assert client.post(f"/messages/{conversation.pk}/send/", {"body": "hello"}).status_code == 404
        assert post_json(client, f"/messages/{conversation.pk}/send/", {"body": "hello"}).status_code == 404
        assert "Is the stub torn" not in client.get("/messages/").content.decode()
    assert Message.objects.count() == 1
    assert login(buyer).get("/messages/999999999999999999999/").status_code == 404


def test_an_order_conversation_is_between_its_buyer_and_seller(login, order, buyer, seller, stranger):
    as_buyer = login(buyer)
    response = as_buyer.get(f"/orders/{order.pk}/messages/")
    conversation = Conversation.objects.get(order=order)
    assert response.status_code == 302 and response["Location"] == f"/messages/{conversation.pk}/"
    assert login(seller).get(f"/orders/{order.pk}/messages/")["Location"] == f"/messages/{conversation.pk}/"
    assert Conversation.objects.count() == 1
    assert login(stranger).get(f"/orders/{order.pk}/messages/").status_code == 404
    assert login(SellerFactory()).get(f"/orders/{order.pk}/messages/").status_code == 404
    assert as_buyer.get("/orders/999999999/messages/").status_code == 404
    posted = post_json(as_buyer, f"/messages/{conversation.pk}/send/", {"body": "Shipped yet?"})
    assert posted.status_code == 201 and posted.json()["conversation_id"] == conversation.pk


def test_the_order_page_links_to_its_conversation(login, order, buyer, seller):
    assert "Message the seller" in login(buyer).get(f"/orders/{order.pk}/").content.decode()
    assert "Message the buyer" in login(seller).get(f"/orders/{order.pk}/").content.decode()


def test_an_unpaid_order_has_no_conversation_yet(login, buyer, seller):
    pending = OrderFactory(buyer=buyer, listing__seller=seller, status=OrderStatus.PENDING_PAYMENT)
    assert login(buyer).get(f"/orders/{pending.pk}/messages/").status_code == 409
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("body", ["", "   \n\t ", "x" * (MESSAGE_MAX_CHARS + 1)])
def test_an_empty_or_too_long_message_is_refused_with_a_400(login, buyer, listing, body):
    client = login(buyer)
    ask(client, listing)
    conversation = Conversation.objects.get()
    page = client.post(f"/messages/{conversation.pk}/send/", {"body": body})
    assert page.status_code == 400
    assert (
        "Write a message first." if len(body) < 100 else "at most 2000 characters"
    ) in page.content.decode()
    answer = post_json(client, f"/messages/{conversation.pk}/send/", {"body": body})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] in ("message_empty", "message_too_long")
    assert ask(client, listing, body).status_code == 400
    assert Message.objects.count() == 1


def test_a_message_of_the_longest_length_is_taken(login, buyer, listing):
    assert ask(login(buyer), listing, "y" * MESSAGE_MAX_CHARS).status_code == 302


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"body": 5}', b'{"body": null}'])
def test_a_json_body_that_is_not_a_message_is_a_400(login, buyer, listing, raw):
    client = login(buyer)
    ask(client, listing)
    conversation = Conversation.objects.get()
    response = client.post(
        f"/messages/{conversation.pk}/send/",
        raw,
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400 and "error" in response.json()


def test_a_double_submit_is_one_message(login, buyer, listing, seller, committed):
    client = login(buyer)
    with committed():
        ask(client, listing, "Same words")
        ask(client, listing, "Same words")
    conversation = Conversation.objects.get()
    again = post_json(client, f"/messages/{conversation.pk}/send/", {"body": "Same words"})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Message.objects.count() == 1
    assert Participant.objects.get(user=seller).unread == 1
    assert len(mail.outbox) == 1


def test_reading_and_posting_are_get_and_post_only(login, buyer, listing):
    client = login(buyer)
    ask(client, listing)
    conversation = Conversation.objects.get()
    assert client.get(f"/messages/{conversation.pk}/send/").status_code == 405
    assert client.post(f"/messages/{conversation.pk}/", {"body": "x"}).status_code == 405
    assert client.post("/messages/", {"body": "x"}).status_code == 405


def test_messages_are_rate_limited_per_user(login, buyer, listing, settings):
    settings.MESSAGE_RATE_PER_USER = "2/m"
    client = login(buyer)
    assert ask(client, listing, "one").status_code == 302
    assert ask(client, listing, "two").status_code == 302
    assert ask(client, listing, "three").status_code == 429
    assert Message.objects.count() == 2


def test_messages_are_rate_limited_per_address(login, listing, settings):
    settings.MESSAGE_RATE_PER_USER = "100/m"
    settings.MESSAGE_RATE_PER_IP = "2/m"
    first, second = login(UserFactory()), login(UserFactory())
    assert ask(first, listing, "one").status_code == 302
    assert ask(second, listing, "two").status_code == 302
    assert ask(first, listing, "three").status_code == 429
    assert Message.objects.count() == 2


def test_a_party_reports_a_message_to_support(login, buyer, seller, listing):
    ask(login(buyer), listing, "Pay me outside the site, idiot")
    message = Message.objects.get()
    as_seller = login(seller)
    response = as_seller.post(f"/messages/report/{message.pk}/", {"reason": "Rude"})
    assert response.status_code == 302
    again = post_json(as_seller, f"/messages/report/{message.pk}/", {"reason": "Rude!"})
    assert again.status_code == 201
    report = MessageReport.objects.get(kind=ReportKind.ABUSE)
    assert (report.reporter, report.reason, report.status) == (seller, "Rude", "open")
    audit = AuditEvent.objects.get(action="message.reported")
    assert (audit.actor, audit.subject_user, audit.data["message_id"]) == (seller, buyer, message.pk)


def test_a_report_is_refused_for_ones_own_message_a_stranger_and_a_long_reason(
    login, buyer, seller, listing, stranger
):
    ask(login(buyer), listing)
    message = Message.objects.get()
    assert login(buyer).post(f"/messages/report/{message.pk}/").status_code == 409
    assert login(stranger).post(f"/messages/report/{message.pk}/").status_code == 404
    assert login(seller).post(f"/messages/report/{message.pk}/", {"reason": "r" * 501}).status_code == 400
    assert login(seller).post("/messages/report/999999999/").status_code == 404
    assert not MessageReport.objects.filter(kind=ReportKind.ABUSE).exists()


def test_contact_details_before_a_sale_are_flagged_and_still_delivered(
    login, buyer, seller, listing, committed
):
    with committed():
        ask(login(buyer), listing, "Cheaper if I pay you direct? jo at gmail dot com")
    flag = MessageReport.objects.get()
    assert (flag.kind, flag.reason, flag.reporter) == (ReportKind.CONTACT_DETAILS, "email", None)
    assert (
        "jo at gmail dot com"
        in login(seller).get(f"/messages/{flag.message.conversation_id}/").content.decode()
    )
    assert AuditEvent.objects.filter(action="message.contact_details_flagged", subject_user=buyer).exists()
    assert len(mail.outbox) == 1


def test_contact_details_after_the_sale_are_not_flagged(login, buyer, order):
    client = login(buyer)
    conversation_url = client.get(f"/orders/{order.pk}/messages/")["Location"]
    client.post(conversation_url + "send/", {"body": "Call me on 415 555 0134 when it ships"})
    assert Message.objects.count() == 1 and not MessageReport.objects.exists()


def test_the_header_count_comes_from_the_cache_after_logging_in(
    buyer, seller, listing, login, django_assert_num_queries, committed
):
    with committed():
        ask(login(buyer), listing)
    login(seller)  # logging in files the count
    with django_assert_num_queries(0):
        assert unread_count(user=seller) == 1
    assert Client().get("/").content.decode().count("nav-messages") == 0


def test_the_seller_dashboard_links_to_the_messages(login, seller, buyer, listing, committed):
    with committed():
        ask(login(buyer), listing)
    page = login(seller).get("/dashboard/").content.decode()
    assert 'id="dashboard-messages"' in page and "1 unread" in page


def test_the_listing_page_offers_to_ask_the_seller(listing, login, seller):
    assert f'href="/listings/{listing.pk}/ask/"' in Client().get(f"/listings/{listing.pk}/").content.decode()
    assert (
        f'href="/listings/{listing.pk}/ask/"'
        not in login(seller).get(f"/listings/{listing.pk}/").content.decode()
    )


def test_control_characters_are_dropped_and_a_lone_surrogate_is_a_400(login, buyer, listing):
    client = login(buyer)
    ask(client, listing, "Line one\r\nLine\x00 two\x07")
    assert Message.objects.get().body == "Line one\nLine two"
    conversation = Conversation.objects.get()
    raw = b'{"body": "\\ud800 half a character"}'
    response = client.post(
        f"/messages/{conversation.pk}/send/",
        raw,
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "message_not_text"


def test_contact_details_in_the_question_thread_after_the_buyer_paid_are_not_flagged(
    login, buyer, seller, listing
):
    client = login(buyer)
    ask(client, listing, "Is it still available?")
    OrderFactory(buyer=buyer, listing=listing, status=OrderStatus.PAID)
    ask(client, listing, "Paid! Text me on 415 555 0134 when it ships")
    assert Message.objects.count() == 2 and not MessageReport.objects.exists()
