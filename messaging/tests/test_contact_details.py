"""The contact-details detector (messaging/contact_details.py): what it flags and what it leaves."""

import pytest

from messaging.contact_details import contact_details_find


@pytest.mark.parametrize(
    "text",
    [
        "write to me at jo.smith@gmail.com",
        "jo.smith @ gmail.com",
        "jo.smith at gmail dot com",
        "jo.smith (at) gmail (dot) com",
        "jo.smith [at] yahoo [dot] co [dot] uk",
        "mail: jo-at-outlook-dot-com",
        "jo AT Hotmail DOT com",
        "my address is jo at gmail",
        "collector at stubs-fan dot net",
    ],
)
def test_an_email_address_is_found_in_its_common_forms(text):
    assert "email" in contact_details_find(text)


@pytest.mark.parametrize(
    "text",
    [
        "call me on 415 555 0134",
        "(415) 555-0134",
        "+44 20 7946 0958",
        "text 4155550134",
        "my number: 555-0134",
        "four one five five five five zero one three four",
        "415 five five five 0134",
        "+1.415.555.0134",
    ],
)
def test_a_phone_number_is_found_in_its_common_forms(text):
    assert "phone" in contact_details_find(text)


@pytest.mark.parametrize(
    "text",
    [
        "Is the stub from the 1969-08-15 show or the 16th?",
        "It was 15/08/1969 at the Bethel farm.",
        "Would you take $45 for it? Shipping 3 days.",
        "Seat 12, row 7, section 104.",
        "See you at the venue, the one at Madison Square Garden.",
        "I paid 1999 for it in 2004.",
        "Order #1234 arrived, thank you!",
        "Meet at the show dot",
        "",
    ],
)
def test_ordinary_questions_are_not_flagged(text):
    assert contact_details_find(text) == []


def test_both_kinds_are_reported_together():
    assert contact_details_find("jo@example.com or 415-555-0134") == ["email", "phone"]
