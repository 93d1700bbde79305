"""The email to the other party: one for a new message, then at most one per conversation every
MESSAGE_EMAIL_MINUTES, sent by the beat task when the window ends (messaging/services.py)."""

import datetime

import pytest
from celery import current_app
from django.core import mail
from django.utils import timezone

from messaging.models import Conversation, Participant
from messaging.services import message_emails_send_due, message_post, message_post_as_staff, question_ask
from payments.staff import SUPPORT
from payments.tests.factories import staff_member

pytestmark = pytest.mark.django_db


def at(moment):
    """Participant's clock: the email state says when the last email went."""
    Participant.objects.filter(emailed_at__isnull=False).update(emailed_at=moment)


def test_two_quick_messages_send_one_email_and_a_later_one_sends_another(buyer, seller, listing, committed):
    with committed():
        question_ask(listing_id=listing.pk, buyer=buyer, body="Is it signed?")
        question_ask(listing_id=listing.pk, buyer=buyer, body="And is the date readable?")
    assert [m.to for m in mail.outbox] == [["seller@example.com"]]
    assert "Is it signed?" in mail.outbox[0].body
    seller_side = Participant.objects.get(user=seller)
    assert seller_side.email_due_at == seller_side.emailed_at + datetime.timedelta(minutes=15)

    # Not yet due: nothing; at the window's end the waiting message goes out in one email.
    with committed():
        assert message_emails_send_due(now=timezone.now()) == 0
    assert len(mail.outbox) == 1
    with committed():
        assert message_emails_send_due(now=timezone.now() + datetime.timedelta(minutes=16)) == 1
    assert len(mail.outbox) == 2
    assert "And is the date readable?" in mail.outbox[1].body

    # A later message, after the window: an email at once.
    at(timezone.now() - datetime.timedelta(minutes=20))
    with committed():
        question_ask(listing_id=listing.pk, buyer=buyer, body="Still there?")
    assert len(mail.outbox) == 3 and "Still there?" in mail.outbox[2].body


def test_a_waiting_email_is_dropped_once_the_party_has_read_the_conversation(
    login, buyer, seller, listing, committed
):
    with committed():
        question_ask(listing_id=listing.pk, buyer=buyer, body="One")
        question_ask(listing_id=listing.pk, buyer=buyer, body="Two")
    conversation = Conversation.objects.get()
    with committed():
        login(seller).get(f"/messages/{conversation.pk}/")
    with committed():
        assert message_emails_send_due(now=timezone.now() + datetime.timedelta(minutes=16)) == 0
    assert len(mail.outbox) == 1
    assert Participant.objects.get(user=seller).email_due_at is None


def test_each_party_and_each_conversation_has_its_own_window(buyer, seller, listing, order, committed):
    with committed():
        question_ask(listing_id=listing.pk, buyer=buyer, body="Question")
    conversation = Conversation.objects.get()
    with committed():
        message_post(conversation_id=conversation.pk, sender=seller, body="Answer")
        order_conversation = Conversation.objects.create(
            kind="order", order=order, listing=order.listing, buyer=buyer, seller=seller
        )
        for user in (buyer, seller):
            Participant.objects.create(conversation=order_conversation, user=user)
        message_post(conversation_id=order_conversation.pk, sender=seller, body="Shipped today")
    assert sorted(m.to[0] for m in mail.outbox) == [
        "buyer@example.com",
        "buyer@example.com",
        "seller@example.com",
    ]


def test_a_staff_message_tells_both_parties(buyer, seller, listing, committed):
    with committed():
        question_ask(listing_id=listing.pk, buyer=buyer, body="Question")
    at(timezone.now() - datetime.timedelta(hours=1))
    with committed():
        message_post_as_staff(
            conversation_id=Conversation.objects.get().pk,
            staff=staff_member(SUPPORT),
            body="Support here: please keep payment on the site.",
        )
    staff_mails = mail.outbox[1:]
    assert sorted(m.to[0] for m in staff_mails) == ["buyer@example.com", "seller@example.com"]
    assert all("Stub Collector staff" in m.body for m in staff_mails)


def test_the_html_email_shows_the_message_as_text_with_safe_links(buyer, listing, committed):
    with committed():
        question_ask(listing_id=listing.pk, buyer=buyer, body="<b>hi</b> see https://example.com/x")
    html = mail.outbox[0].alternatives[0][0]
    assert "<b>hi</b>" not in html and "&lt;b&gt;hi&lt;/b&gt;" in html
    assert '<a href="https://example.com/x" rel="nofollow noopener ugc"' in html


def test_beat_sends_the_due_emails_every_minute():
    entry = current_app.conf.beat_schedule["send-due-message-emails"]
    assert entry["task"] == "messaging.send_due_message_emails"
    assert entry["task"] in current_app.tasks
