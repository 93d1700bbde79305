"""Support's side in admin: reading any conversation, posting into one as "Stub Collector staff",
and handling the reports queue (abuse reports and contact-details flags), all audited."""

import pytest
from django.core import mail

from messaging.models import Conversation, Message, MessageReport, ReportKind
from messaging.services import message_report, question_ask
from payments.models import AuditEvent
from payments.staff import FINANCE, SUPPORT
from payments.tests.factories import staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(buyer, listing):
    question_ask(listing_id=listing.pk, buyer=buyer, body="<i>Is it</i> real? mail jo@example.com")
    return Conversation.objects.get()


def test_support_reads_any_conversation_in_admin(login, conversation):
    client = login(staff_member(SUPPORT))
    assert client.get("/admin/messaging/conversation/").status_code == 200
    page = client.get(f"/admin/messaging/conversation/{conversation.pk}/change/").content.decode()
    assert "&lt;i&gt;Is it&lt;/i&gt; real?" in page and "<i>Is it</i>" not in page
    assert "Post as Stub Collector staff" in page


def test_support_posts_into_a_conversation_as_staff(login, conversation, buyer, seller, committed):
    support = staff_member(SUPPORT)
    client = login(support)
    assert client.get(f"/admin/messaging/conversation/{conversation.pk}/post/").status_code == 200
    with committed():
        response = client.post(
            f"/admin/messaging/conversation/{conversation.pk}/post/",
            {"body": "Please keep payment on Stub Collector."},
        )
    assert response.status_code == 302
    message = Message.objects.get(as_staff=True)
    assert (message.sender, message.conversation) == (support, conversation)
    assert AuditEvent.objects.filter(action="message.staff_posted", actor=support).exists()
    assert "Stub Collector staff" in login(buyer).get(f"/messages/{conversation.pk}/").content.decode()
    assert {m.to[0] for m in mail.outbox} >= {"buyer@example.com"}


def test_an_empty_staff_post_is_refused(login, conversation):
    client = login(staff_member(SUPPORT))
    response = client.post(f"/admin/messaging/conversation/{conversation.pk}/post/", {"body": "  "})
    assert response.status_code == 400
    assert not Message.objects.filter(as_staff=True).exists()


@pytest.mark.parametrize("who", ["finance", "staff"])
def test_only_support_posts_as_staff(login, conversation, who):
    user = staff_member(FINANCE) if who == "finance" else staff_member()
    response = login(user).post(f"/admin/messaging/conversation/{conversation.pk}/post/", {"body": "Hello"})
    assert response.status_code == 403
    assert not Message.objects.filter(as_staff=True).exists()


def test_support_marks_reports_handled_and_it_is_audited(login, conversation, seller):
    message = Message.objects.get()
    message_report(message_id=message.pk, reporter=seller, reason="spam")
    assert set(MessageReport.objects.values_list("kind", flat=True)) == {
        ReportKind.ABUSE,
        ReportKind.CONTACT_DETAILS,
    }
    support = staff_member(SUPPORT)
    client = login(support)
    queue = client.get("/admin/messaging/messagereport/?status=open").content.decode()
    assert "Contact details before a sale" in queue and "Reported as abuse" in queue
    ids = list(MessageReport.objects.values_list("pk", flat=True))
    response = client.post(
        "/admin/messaging/messagereport/", {"action": "mark_handled", "_selected_action": ids}
    )
    assert response.status_code == 302
    assert set(MessageReport.objects.values_list("status", flat=True)) == {"handled"}
    assert AuditEvent.objects.filter(action="message.report_handled", actor=support).count() == 2


def test_finance_sees_the_reports_but_cannot_close_them(login, conversation):
    client = login(staff_member(FINANCE))
    assert client.get("/admin/messaging/messagereport/").status_code == 200
    ids = list(MessageReport.objects.values_list("pk", flat=True))
    client.post("/admin/messaging/messagereport/", {"action": "mark_handled", "_selected_action": ids})
    assert set(MessageReport.objects.values_list("status", flat=True)) == {"open"}
