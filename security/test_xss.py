"""Script in every text a user controls comes out as text: pages, emails and admin.

Each field gets its own marked payload (`xss_<field>`), stored as typed (through the real routes
where a route writes it). Every surface that shows the field must show the marker (so the test
cannot pass by not rendering it) and must never contain the payload's raw tags. JSON answers
carry it as JSON data, never as HTML.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from disputes.models import Dispute
from marketplace.models import Listing
from marketplace.tests.factories import ListingFactory, StubFactory
from messaging.models import MessageReport
from payments.models import OrderStatus
from payments.shipping import ShippingCarrier, tracking_url
from payments.tests.factories import sandbox_seller_onboarded
from payments.tests.webhook_support import deliver, pay, sandbox_order
from testing import paid_snapshot

pytestmark = pytest.mark.django_db


def payload(field: str) -> str:
    return f'<script>xss_{field}()</script><img src=x onerror=xss_{field}()>"\'&'


def short_payload(field: str) -> str:  # for fields of 20 characters or so
    return f"<i id=xss_{field}>"


RAW_TAGS = ("<script>xss_", "<img src=x onerror=xss_", "<i id=xss_")

LONG_FIELDS = {
    "stub": ("event_name", "performer", "venue", "city", "description"),
    "seller": ("seller_bio",),
    "order": ("shipping_name", "shipping_line1", "shipping_line2", "shipping_city", "shipping_state"),
}


def assert_escaped(body: str, fields, where: str):
    leaks = [tag for tag in RAW_TAGS if tag in body]
    assert not leaks, f"{where}: raw markup {leaks} in\n" + _around(body, leaks[0])
    missing = [f for f in fields if f"xss_{f}" not in body]
    assert not missing, f"{where}: {missing} not shown at all (the check would prove nothing)"


def _around(body: str, needle: str) -> str:
    at = body.find(needle)
    return body[max(0, at - 200): at + 200]


# The order's pk -> the pks and addresses of the rest of its world, as _tainted_build made it.
_TAINTED_EXTRAS: dict[int, dict] = {}


def _tainted_build(sandbox) -> int:
    """The world below (~1.5 s of CPU), made once and shared by the tests that take it
    (testing/paid_snapshot.py: each test starts from the same rows, sandbox state and emails in
    its own savepoint). Emails go out after the commit (or through a task): those callbacks run
    as they come."""
    from django.test import TestCase
    from django.test.utils import override_settings

    with override_settings(RATELIMIT_ENABLE=False), TestCase.captureOnCommitCallbacks(execute=True):
        world = _tainted_world(sandbox)
    order = world["order"]
    _TAINTED_EXTRAS[order.pk] = {
        "on_sale": world["on_sale"].pk, "dispute": world["dispute"].pk, "staff": world["staff"].pk,
        "conversation_url": world["conversation_url"], "offer_url": world["offer_url"],
    }
    return order.pk


@pytest.fixture
@paid_snapshot.shared(_tainted_build)
def tainted(webhook_sandbox, client, settings, request):
    settings.RATELIMIT_ENABLE = False
    order = paid_snapshot.take(request, webhook_sandbox, client, _tainted_build)
    extras = _TAINTED_EXTRAS[order.pk]
    seller, buyer = order.seller, order.buyer
    clients = {"anon": Client()}
    for who, user in (("seller", seller), ("buyer", buyer),
                      ("staff", get_user_model().objects.get(pk=extras["staff"]))):
        clients[who] = Client()
        clients[who].force_login(user)
    return {"seller": seller, "buyer": buyer, "order": order,
            "on_sale": Listing.objects.get(pk=extras["on_sale"]),
            "dispute": Dispute.objects.get(pk=extras["dispute"]),
            "conversation_url": extras["conversation_url"], "report": MessageReport.objects.get(),
            "offer_url": extras["offer_url"], "clients": clients}


def _tainted_world(stripe_sandbox):
    """One seller, one buyer, one paid, shipped, completed, rated and disputed order, and one
    listing still on sale: every text a user types holds a payload. The sandbox has our
    webhook endpoints registered."""
    seller = sandbox_seller_onboarded(stripe_sandbox, seller_bio=payload("seller_bio"))
    buyer = UserFactory(first_name=payload("first_name"), last_name=payload("last_name"))
    stub_fields = {name: payload(name) for name in LONG_FIELDS["stub"]}
    on_sale = ListingFactory(seller=seller, stub=StubFactory(**stub_fields))

    sold_stub = StubFactory(**stub_fields)
    order = sandbox_order(stripe_sandbox, seller=seller, buyer=buyer)
    order.listing.stub = sold_stub
    order.listing.save(update_fields=["stub"])
    for name in LONG_FIELDS["order"]:
        setattr(order, name, payload(name))
    order.shipping_postal_code = short_payload("zip")
    order.save()
    pay(order)
    deliver(stripe_sandbox)

    as_seller, as_buyer = Client(), Client()
    as_seller.force_login(seller)
    as_buyer.force_login(buyer)

    def post_json(client, path, body):
        response = client.post(path, json.dumps(body), content_type="application/json",
                               HTTP_ACCEPT="application/json")
        assert response.status_code in (200, 201), (path, response.status_code, response.content[:300])
        return response

    post_json(as_seller, f"/payments/orders/{order.pk}/ship/",
              {"tracking_number": payload("tracking"), "shipping_carrier": "ups"})
    post_json(as_buyer, f"/payments/orders/{order.pk}/complete/", {})
    post_json(as_buyer, f"/payments/orders/{order.pk}/feedback/",
              {"rating": 2, "comment": payload("feedback")})
    post_json(as_seller, f"/payments/orders/{order.pk}/feedback/reply/", {"reply": payload("reply")})
    dispute = Dispute.objects.create(
        stripe_dispute_id=f"dp_xss{order.pk}", order=order, stripe_account_id=order.stripe_account_id,
        charge_id="ch_xss", amount_cents=order.amount_cents, reason="fraudulent", status="needs_response",
    )
    post_json(as_seller, f"/payments/orders/{order.pk}/dispute/", {"note": payload("dispute_note")})
    saved = as_buyer.post("/saved-searches/", {"q": payload("saved_search")})
    assert saved.status_code == 302, saved.status_code
    asked = as_buyer.post(f"/listings/{on_sale.pk}/ask/", {"body": payload("message")})
    assert asked.status_code == 302, asked.status_code
    conversation_url = asked["Location"].split("#")[0]
    message_id = int(asked["Location"].rsplit("-", 1)[1])
    reported = as_seller.post(f"/messages/report/{message_id}/", {"reason": payload("report_reason")})
    assert reported.status_code == 302, reported.status_code
    # An offer on the listing still on sale, countered by the seller (offers' pages and emails).
    type(on_sale).objects.filter(pk=on_sale.pk).update(offers_enabled=True)
    offer = post_json(as_buyer, f"/listings/{on_sale.pk}/offer/", {"amount": "40.00"}).json()
    post_json(as_seller, f"/offers/{offer['id']}/counter/", {"amount": "45.00"})
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED, order.status
    staff = UserFactory(is_staff=True, is_superuser=True)
    return {"order": order, "on_sale": on_sale, "dispute": dispute, "staff": staff,
            "conversation_url": conversation_url, "offer_url": f"/offers/{offer['id']}/"}


STUB = LONG_FIELDS["stub"]
SHIPPING = (*LONG_FIELDS["order"], "zip")

# (who looks, path built from the world, fields that page shows)
PAGES = [
    ("anon", lambda w: "/", ("event_name",)),
    ("anon", lambda w: "/?q=%3Cscript%3Exss_query()%3C/script%3E", ("query",)),
    ("anon", lambda w: f"/listings/{w['on_sale'].pk}/", STUB),
    ("anon", lambda w: f"/sellers/{w['seller'].username}/", ("seller_bio", "event_name")),
    ("buyer", lambda w: f"/checkout/{w['on_sale'].pk}/", ("event_name", *SHIPPING)),
    ("buyer", lambda w: "/orders/", ("event_name",)),
    ("buyer", lambda w: f"/orders/{w['order'].pk}/",
     ("event_name", "description", *SHIPPING, "tracking", "feedback", "reply")),
    ("seller", lambda w: f"/orders/{w['order'].pk}/",
     ("event_name", "description", *SHIPPING, "tracking", "feedback", "reply", "dispute_note")),
    ("seller", lambda w: "/orders/", ("event_name",)),
    ("seller", lambda w: "/dashboard/", ("event_name",)),
    ("buyer", lambda w: "/saved-searches/", ("saved_search",)),
    ("buyer", lambda w: "/accounts/profile/", ("first_name", "last_name")),
    ("seller", lambda w: "/accounts/profile/", ("seller_bio",)),
    ("staff", lambda w: f"/admin/payments/order/{w['order'].pk}/change/",
     (*SHIPPING, "tracking", "event_name", "description")),  # the snapshot inline
    ("staff", lambda w: "/admin/payments/order/", ("event_name",)),
    ("staff", lambda w: "/admin/marketplace/listing/", ("event_name",)),
    ("staff", lambda w: f"/admin/marketplace/stub/{w['on_sale'].stub_id}/change/", STUB),
    ("staff", lambda w: f"/admin/accounts/user/{w['seller'].pk}/change/", ("seller_bio",)),
    ("staff", lambda w: f"/admin/accounts/user/{w['buyer'].pk}/change/", ("first_name", "last_name")),
    ("staff", lambda w: f"/admin/disputes/dispute/{w['dispute'].pk}/respond/", ("dispute_note",)),
    ("staff", lambda w: "/admin/ratings/feedback/", ("feedback",)),
    ("buyer", lambda w: w["conversation_url"], ("message", "event_name")),
    ("seller", lambda w: w["conversation_url"], ("message", "event_name")),
    ("seller", lambda w: "/messages/", ("message", "event_name")),
    ("staff", lambda w: w["conversation_url"].replace("/messages/", "/admin/messaging/conversation/")
     + "change/", ("message",)),
    ("staff", lambda w: "/admin/messaging/messagereport/", ("message",)),
    ("staff", lambda w: f"/admin/messaging/messagereport/{w['report'].pk}/change/",
     ("message", "report_reason")),
    ("staff", lambda w: f"/admin/payments/order/{w['order'].pk}/refund/", ("event_name",)),
    ("buyer", lambda w: "/offers/", ("event_name",)),
    ("seller", lambda w: "/offers/", ("event_name", "first_name", "last_name")),
    ("buyer", lambda w: w["offer_url"], ("event_name",)),
    ("seller", lambda w: w["offer_url"], ("event_name", "first_name", "last_name")),
    ("buyer", lambda w: f"/listings/{w['on_sale'].pk}/offer/", ("event_name",)),
    ("staff", lambda w: "/admin/offers/offer/", ("event_name",)),
    ("staff", lambda w: w["offer_url"].replace("/offers/", "/admin/offers/offer/") + "change/",
     ("event_name",)),
]


@pytest.mark.parametrize(("who", "path", "fields"), PAGES, ids=[f"{p[0]} {i}" for i, p in enumerate(PAGES)])
def test_pages_show_user_text_as_text(tainted, who, path, fields):
    url = path(tainted)
    response = tainted["clients"][who].get(url, HTTP_ACCEPT="text/html")

    assert response.status_code in (200, 400, 409), (url, response.status_code)
    assert response["Content-Type"].startswith("text/html")
    assert_escaped(response.content.decode(), fields, f"{who} GET {url}")


def test_the_tracking_link_is_the_carriers_page_with_the_number_encoded(tainted):
    order = tainted["order"]
    assert order.shipping_carrier == "ups" and order.tracking_url.startswith("https://")
    body = tainted["clients"]["buyer"].get(f"/orders/{order.pk}/").content.decode()
    assert f'href="{order.tracking_url}"' in body


@given(carrier=st.sampled_from([c for c, _ in ShippingCarrier.choices] + ["", "nope"]),
       number=st.text(max_size=60))
def test_a_tracking_url_is_always_a_carriers_https_page_or_nothing(carrier, number):
    url = tracking_url(carrier=carrier, tracking_number=number)
    assert url == "" or url.startswith("https://")
    assert not set(url) & set("\"'<> \n\r\t`"), url


def test_html_emails_show_user_text_as_text(tainted):
    """Order paid (buyer and seller), shipped, feedback, dispute and new-message mails: every HTML part."""
    html_parts = [(m.subject, content) for m in mail.outbox
                  for content, mimetype in getattr(m, "alternatives", []) if mimetype == "text/html"]
    assert html_parts, [m.subject for m in mail.outbox]
    for subject, html in html_parts:  # the subject is a text header, not HTML: only the body
        leaks = [tag for tag in RAW_TAGS if tag in html]
        assert not leaks, f"email {subject!r}: raw {leaks}\n" + _around(html, leaks[0])
    everything = "\n".join(html for _, html in html_parts)
    shown = ("event_name", "shipping_name", "tracking", "message")
    missing = [f for f in shown if f"xss_{f}" not in everything]
    assert not missing, f"the HTML emails never show {missing}"


def test_email_subjects_carry_no_header_breaks(tainted):
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject, message.subject


@pytest.mark.parametrize("path", ["/api/listings/", "/api/listings/{pk}/", "/marketplace/my-orders/"])
def test_json_answers_carry_user_text_as_json_data(tainted, path):
    url = path.format(pk=tainted["on_sale"].pk)
    response = tainted["clients"]["buyer"].get(url, HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "xss_event_name" in json.dumps(response.json())


def test_a_username_with_markup_is_refused_at_sign_up(client, settings):
    settings.RATELIMIT_ENABLE = False
    response = client.post("/accounts/signup/", {
        "username": "<script>xss_username()</script>", "email": "x@example.com",
        "password1": "correct-horse-battery-staple", "password2": "correct-horse-battery-staple",
    })

    assert response.status_code == 400
    assert "<script>xss_username" not in response.content.decode()


def test_a_refund_note_to_the_buyer_is_text_in_the_confirmation_the_admin_preview_and_the_emails(
    client, order_paid_with, django_capture_on_commit_callbacks, deliver_all
):
    """The note a seller or staff writes to the buyer with a refund: the seller's confirmation
    page, Finance's admin preview, and the buyer's refund emails (HTML part)."""
    order = order_paid_with("pm_card_visa")
    note = payload("buyer_note")
    client.force_login(order.seller)
    asked = {"amount": "5.00", "reason": "damaged", "buyer_note": note}
    confirmation = client.post(f"/payments/orders/{order.pk}/refund/", {**asked, "refund_token": "t"})
    assert confirmation.status_code == 200
    assert_escaped(confirmation.content.decode(), ("buyer_note",), "the seller's refund confirmation")

    as_staff = Client()
    as_staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    preview = as_staff.post(f"/admin/payments/order/{order.pk}/refund/", asked)
    assert preview.status_code == 200
    assert_escaped(preview.content.decode(), ("buyer_note",), "Finance's refund preview")

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/payments/orders/{order.pk}/refund/",
                               json.dumps({"amount": 500, "reason": "damaged", "buyer_note": note}),
                               content_type="application/json", HTTP_ACCEPT="application/json")
        deliver_all()
    assert response.status_code == 201, response.content[:300]
    to_buyer = [m for m in mail.outbox if m.to == [order.buyer.email]]
    assert to_buyer
    for message in to_buyer:
        (html, _), = message.alternatives
        assert_escaped(html, ("buyer_note",), f"the email {message.subject!r}")


def test_an_offer_amount_typed_as_markup_comes_back_as_text_and_its_confirmation_escapes_the_stub(tainted):
    """The offer form echoes what was typed when it is not an amount; the confirmation page and
    the counter's name the stub."""
    as_buyer, listing = tainted["clients"]["buyer"], tainted["on_sale"]
    refused = as_buyer.post(f"/listings/{listing.pk}/offer/", {"amount": short_payload("amount")})
    assert refused.status_code == 400
    assert_escaped(refused.content.decode(), ("amount", "event_name"), "the refused offer form")
    confirm = tainted["clients"]["seller"].post(tainted["offer_url"] + "counter/", {"amount": "46.00"})
    assert confirm.status_code == 200
    assert_escaped(confirm.content.decode(), ("event_name",), "the counter's confirmation")


@pytest.mark.parametrize("action", ["approve", "decline"])
def test_the_refund_approval_confirmation_shows_supports_words_and_the_stub_as_text(client, action):
    """Finance's confirmation page for Support's refund requests shows the request's reason, its
    note to the buyer and the stub's name."""
    from payments.tests.factories import RefundApprovalFactory

    approval = RefundApprovalFactory(why=payload("why"), buyer_note=payload("buyer_note"))
    stub = approval.order.listing.stub
    stub.event_name = payload("event_name")
    stub.save(update_fields=["event_name"])
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.post("/admin/payments/refundapproval/",
                       {"action": action, "_selected_action": [approval.pk]})

    assert page.status_code == 200
    assert_escaped(page.content.decode(), ("why", "buyer_note", "event_name"), f"the {action} confirmation")
