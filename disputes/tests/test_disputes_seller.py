"""The seller's side of a dispute: the order page and dashboard show it with the deadline, and
POST /payments/orders/<id>/dispute/ adds a note and tracking that staff see on the dispute page."""

import pytest
from django.contrib.auth.models import Group

from accounts.tests.factories import UserFactory
from disputes.models import Dispute
from payments.models import AuditEvent
from payments.staff import SUPPORT, staff_groups_ensure
from payments.tests.webhook_support import deliver, pay, sandbox_order
from testing import paid_snapshot

pytestmark = pytest.mark.django_db


def _disputed_order_build(sandbox) -> int:
    order = sandbox_order(sandbox)
    pay(order, "pm_card_createDispute")
    deliver(sandbox)
    return order.pk


@pytest.fixture
@paid_snapshot.shared(_disputed_order_build)
def disputed_order(webhook_sandbox, client, request):
    """Paid with Stripe's 0259 card (disputed right after paying); made once for the tests that
    take it, each in its own savepoint (testing/paid_snapshot.py)."""
    return paid_snapshot.take(request, webhook_sandbox, client, _disputed_order_build)


def url(order):
    return f"/payments/orders/{order.pk}/dispute/"


def test_the_seller_sees_the_dispute_and_its_deadline_on_the_order_page(client, disputed_order):
    dispute = Dispute.objects.get(order=disputed_order)
    client.force_login(disputed_order.seller)

    page = client.get(f"/orders/{disputed_order.pk}/").content.decode()

    assert "The buyer disputed this payment" in page and "$50.00" in page
    assert "did not make this payment" in page
    assert dispute.evidence_due_by.strftime("%-d %b %Y") in page and "days left" in page
    assert f'action="{url(disputed_order)}"' in page
    assert "needs_response" not in page  # plain words, not Stripe's codes
    assert "Add your side below" in page and "Nothing to do right now" not in page


def test_the_buyer_does_not_get_the_sellers_dispute_box(client, disputed_order):
    client.force_login(disputed_order.buyer)
    page = client.get(f"/orders/{disputed_order.pk}/").content.decode()
    assert url(disputed_order) not in page


def test_the_dashboard_lists_open_disputes_with_the_deadline(client, disputed_order):
    client.force_login(disputed_order.seller)
    page = client.get("/dashboard/").content.decode()
    assert 'id="open-disputes"' in page and f"Order #{disputed_order.pk}" in page
    assert "days left" in page and "add your side" in page


def test_the_seller_adds_their_side_and_staff_see_it_on_the_dispute_page(client, disputed_order):
    client.force_login(disputed_order.seller)

    response = client.post(url(disputed_order), {"note": "Sent first class, buyer thanked me by email.",
                                                 "tracking_number": "LX123456789GB"})

    assert response.status_code == 302 and response.url == f"/orders/{disputed_order.pk}/"
    dispute = Dispute.objects.get(order=disputed_order)
    assert dispute.seller_note == "Sent first class, buyer thanked me by email."
    assert dispute.seller_tracking_number == "LX123456789GB" and dispute.seller_note_at
    assert AuditEvent.objects.filter(order=disputed_order, action="dispute.seller_note",
                                     actor=disputed_order.seller).count() == 1

    staff_groups_ensure()
    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(support)
    page = client.get(f"/admin/disputes/dispute/{dispute.pk}/change/").content.decode()
    assert "buyer thanked me by email" in page and "LX123456789GB" in page


def test_a_double_click_saves_the_note_once(client, disputed_order):
    client.force_login(disputed_order.seller)
    body = {"note": "Shipped on Monday.", "tracking_number": ""}

    first = client.post(url(disputed_order), body)
    second = client.post(url(disputed_order), body)

    assert first.status_code == second.status_code == 302
    assert AuditEvent.objects.filter(order=disputed_order, action="dispute.seller_note").count() == 1


def test_json_clients_get_json(client, disputed_order):
    client.force_login(disputed_order.seller)
    response = client.post(url(disputed_order), {"note": "", "tracking_number": "1Z999"},
                           content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["tracking_number"] == "1Z999"


@pytest.mark.parametrize("body", [
    {"note": "", "tracking_number": ""},
    {"note": "x" * 2001},
    {"note": "ok", "tracking_number": "1" * 101},
    {"note": "nul\x00"},
])
def test_bad_input_is_a_400_and_saves_nothing(client, disputed_order, body):
    client.force_login(disputed_order.seller)
    response = client.post(url(disputed_order), body, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_seller_note"
    assert Dispute.objects.get(order=disputed_order).seller_note_at is None


@pytest.mark.parametrize("body", [b"[1]", b"{nope", b'{"note": ["a list"]}', b'{"note": 5}'])
def test_a_bad_json_body_is_a_400(client, disputed_order, body):
    client.force_login(disputed_order.seller)
    response = client.post(url(disputed_order), body, content_type="application/json",
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 400


def test_a_stranger_or_the_buyer_gets_404(client, disputed_order):
    for user in (UserFactory(), disputed_order.buyer):
        client.force_login(user)
        response = client.post(url(disputed_order), {"note": "mine now"}, HTTP_ACCEPT="application/json")
        assert response.status_code == 404
    assert Dispute.objects.get(order=disputed_order).seller_note == ""


def test_anonymous_is_refused_and_get_is_not_allowed(client, disputed_order):
    assert client.post(url(disputed_order), {"note": "x"}).status_code == 403
    client.force_login(disputed_order.seller)
    assert client.get(url(disputed_order)).status_code == 405


def test_an_order_without_a_dispute_is_404(client, webhook_sandbox):
    order = sandbox_order(webhook_sandbox)
    pay(order)
    deliver(webhook_sandbox)
    client.force_login(order.seller)
    response = client.post(url(order), {"note": "x"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 404


def test_after_the_dispute_closed_the_note_is_refused_with_409(client, disputed_order, webhook_sandbox):
    dispute = Dispute.objects.get(order=disputed_order)
    webhook_sandbox.resolve_dispute(dispute.stripe_dispute_id, "lost")
    deliver(webhook_sandbox)
    client.force_login(disputed_order.seller)

    response = client.post(url(disputed_order), {"note": "too late"}, HTTP_ACCEPT="application/json")

    assert response.status_code == 409
    page = client.get(f"/orders/{disputed_order.pk}/").content.decode()
    assert "Lost: the money went back to the buyer" in page and url(disputed_order) not in page
