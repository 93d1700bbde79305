"""The order emails: plain text plus HTML, to the right people, with what they need."""

from unittest import mock

import pytest
from django.core import mail

from payments.services.notifications import (
    notify_late_payment_refunded,
    notify_order_paid,
    notify_order_shipped,
)
from payments.tests.factories import PaidOrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(settings):
    settings.SITE_URL = "https://stubs.example"
    return PaidOrderFactory(
        buyer__email="buyer@example.com",
        listing__seller__email="seller@example.com",
        listing__price_cents=5000,
        listing__stub__event_name="Nirvana at the Paramount",
        shipping_name="Ada Lovelace",
        shipping_line1="12 Analytical Row",
        shipping_city="Springfield",
        shipping_state="IL",
        shipping_postal_code="62701",
    )


def by_recipient():
    return {message.to[0]: message for message in mail.outbox}


def test_a_paid_order_sends_the_buyer_a_confirmation_and_the_seller_a_sale_notice(order):
    notify_order_paid(order=order)

    sent = by_recipient()
    assert set(sent) == {"buyer@example.com", "seller@example.com"}
    buyer, seller = sent["buyer@example.com"], sent["seller@example.com"]
    assert f"Order #{order.pk} confirmed" in buyer.subject
    assert "Nirvana at the Paramount" in buyer.body and "$50.00" in buyer.body
    assert f"https://stubs.example/orders/{order.pk}/" in buyer.body
    assert "ship it" in seller.subject.lower()
    for line in ("Ada Lovelace", "12 Analytical Row", "Springfield IL 62701"):
        assert line in seller.body
    assert "$5.00" in seller.body and "$45.00" in seller.body  # fee and what the seller receives
    assert f"https://stubs.example/orders/{order.pk}/#ship" in seller.body
    for message in (buyer, seller):
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html" and "<p>" in html


def test_the_shipped_notice_carries_the_tracking_number(order):
    order.tracking_number = "1Z999AA10123456784"
    order.save()

    notify_order_shipped(order=order)

    (message,) = mail.outbox
    assert message.to == ["buyer@example.com"]
    assert "1Z999AA10123456784" in message.body
    assert "1Z999AA10123456784" in message.alternatives[0][0]


def test_the_shipped_notice_says_when_there_is_no_tracking_number(order):
    notify_order_shipped(order=order)

    assert "did not give a tracking number" in mail.outbox[0].body


def test_a_late_payment_refund_is_explained_to_both_sides(order):
    notify_late_payment_refunded(order=order)

    sent = by_recipient()
    assert set(sent) == {"buyer@example.com", "seller@example.com"}
    assert "refunded the full $50.00" in sent["buyer@example.com"].body
    assert "Do not ship anything" in sent["seller@example.com"].body


def test_a_user_without_an_email_address_is_skipped(order):
    order.seller.email = ""
    order.seller.save()

    notify_order_paid(order=order)

    assert [m.to for m in mail.outbox] == [["buyer@example.com"]]


def test_a_failing_mail_server_does_not_raise(order):
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("smtp down")):
        notify_order_paid(order=order)  # logged, not raised: the order has already moved

    assert mail.outbox == []


def test_names_in_emails_are_escaped_in_html(order):
    order.shipping_name = "<b>Bobby</b>"
    order.save()

    notify_order_paid(order=order)

    seller = by_recipient()["seller@example.com"]
    assert "<b>Bobby</b>" in seller.body  # plain text as typed
    assert "&lt;b&gt;Bobby&lt;/b&gt;" in seller.alternatives[0][0]
