"""Control characters and line breaks in one-line text: the forms clean them away, and text
already stored with them (older rows, the admin, the ORM) can no longer stop an email."""

import pytest
from django.core import mail
from django.utils.datastructures import MultiValueDict

from accounts.forms import ProfileForm
from accounts.tests.factories import UserFactory
from core.text import email_subject
from marketplace.forms import ListingFilterForm, ListingForm
from marketplace.models import Listing
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload
from marketplace.watchlist import watch_add, watch_price_drops_notify
from payments.forms import ShipOrderForm, ShippingAddressForm
from payments.services.notifications import notify_order_paid
from payments.tests.factories import PaidOrderFactory

pytestmark = pytest.mark.django_db

DIRTY = "Prince\r\nBcc: everyone@example.com\x00\x07\u2028live"
CLEAN = "Prince Bcc: everyone@example.com live"
# What a row made before the forms cleaned titles may hold: PostgreSQL refuses NUL in text.
STORED = DIRTY.replace("\x00", "")


def test_a_paid_order_whose_title_holds_a_line_break_still_emails_the_buyer_and_the_seller():
    order = PaidOrderFactory(buyer__email="buyer@example.com", listing__seller__email="seller@example.com",
                             listing__stub__event_name=STORED)

    notify_order_paid(order=order)

    assert sorted(message.to[0] for message in mail.outbox) == ["buyer@example.com", "seller@example.com"]
    for message in mail.outbox:
        assert CLEAN in message.subject
        assert not any(char in message.subject for char in "\r\n\x00\x07\u2028")


def test_a_price_drop_on_a_stub_whose_title_holds_a_line_break_is_still_emailed():
    listing = ListingFactory(price_cents=5_000, stub__event_name=STORED)
    watch_add(user=UserFactory(email="watcher@example.com"), listing_id=listing.pk)
    Listing.objects.filter(pk=listing.pk).update(price_cents=4_000)

    assert watch_price_drops_notify(listing_id=listing.pk) == 1
    assert mail.outbox[0].subject.startswith(f"Price drop: {CLEAN} is now")


def test_a_subject_is_one_line_and_cut_with_an_ellipsis_when_long():
    subject = email_subject("Order #1 confirmed: " + "Very long title\n" * 40)

    assert "\n" not in subject and len(subject) == 150 and subject.endswith("…")


STUB = {"event_name": DIRTY, "performer": DIRTY, "venue": DIRTY, "city": DIRTY, "event_date": "2001-05-04",
        "category": "concert", "condition": "good", "description": "Two lines\nare fine here", "price": "20"}
ADDRESS = {"shipping_name": DIRTY, "shipping_line1": DIRTY, "shipping_line2": DIRTY, "shipping_city": DIRTY,
           "shipping_state": DIRTY, "shipping_postal_code": "62701\r\n", "shipping_country": "US"}


@pytest.mark.parametrize(("form_class", "data", "one_line"), [
    (ListingForm, STUB, ["event_name", "performer", "venue", "city"]),
    (ShippingAddressForm, ADDRESS, ["shipping_name", "shipping_line1", "shipping_line2", "shipping_city",
                                    "shipping_state"]),
    (ProfileForm, {"first_name": DIRTY, "last_name": DIRTY, "email": "a@example.com"},
     ["first_name", "last_name"]),
    (ShipOrderForm, {"shipping_carrier": "usps", "tracking_number": "9400\r\n1000"}, []),
    (ListingFilterForm, {"q": DIRTY}, ["q"]),
])
def test_every_one_line_field_keeps_its_text_without_control_characters(form_class, data, one_line):
    # A new listing needs its photos; the other forms take no files.
    files = MultiValueDict({"photos": [image_upload()]}) if form_class is ListingForm else None
    form = form_class(data=data, files=files)

    assert form.is_valid(), form.errors
    for name in one_line:
        assert form.cleaned_data[name] == CLEAN
    if form_class is ListingForm:
        assert form.cleaned_data["description"] == "Two lines\nare fine here"  # a text area keeps its lines
    if form_class is ShippingAddressForm:
        assert form.cleaned_data["shipping_postal_code"] == "62701"
    if form_class is ShipOrderForm:
        assert form.cleaned_data["tracking_number"] == "9400 1000"
