"""Problem reports show user text as text: the buyer's description, the seller's reply, Support's
decision note and the stub's name, on the report's page (both parties), the order page, admin's
report and decide pages, the emails of each step, and the dispute evidence offer."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.tests.factories import StubFactory
from payments.models import Order
from payments.tests.factories import sandbox_seller_onboarded, staff_member
from payments.tests.webhook_support import (
    PAYOUT_DELAY_SECONDS,
    deliver,
    endpoints_register,
    pay,
    sandbox_order,
)
from problems.models import ProblemReport
from problems.services import problem_decide, problem_escalate, problem_reply
from security.test_xss import assert_escaped, payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(stripe_sandbox, django_capture_on_commit_callbacks):
    endpoints_register(stripe_sandbox, Client())
    seller = sandbox_seller_onboarded(stripe_sandbox)
    buyer = UserFactory(first_name=payload("first_name"))
    order = sandbox_order(stripe_sandbox, seller=seller, buyer=buyer)
    order.listing.stub = StubFactory(event_name=payload("event_name"))
    order.listing.save(update_fields=["stub"])
    pay(order)
    deliver(stripe_sandbox)
    stripe_sandbox.advance_time(PAYOUT_DELAY_SECONDS)
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - datetime.timedelta(days=15))
    client = Client()
    client.force_login(buyer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/{order.pk}/problem/",
                               {"kind": "not_received", "description": payload("description")})
        assert response.status_code == 302
        report = ProblemReport.objects.get()
        problem_reply(report_id=report.pk, seller=seller, body=payload("reply"))
        problem_escalate(report_id=report.pk, buyer=buyer)
        support = staff_member("Support")
        problem_decide(report_id=report.pk, staff=support, decision="decline", note=payload("note"))
    report.refresh_from_db()
    return report, support


def page(user, path) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_the_report_page_shows_every_text_as_text(report):
    report, _ = report
    for user in (report.buyer, report.seller):
        assert_escaped(page(user, f"/problems/{report.pk}/"), ("description", "reply", "note", "event_name"),
                       "the report's page")


def test_admin_shows_every_text_as_text(report):
    report, support = report
    assert_escaped(page(support, f"/admin/problems/problemreport/{report.pk}/change/"),
                   ("description", "reply", "note"), "admin's report page")
    assert_escaped(page(support, f"/admin/problems/problemreport/{report.pk}/decide/"),
                   ("description", "reply", "event_name"), "admin's decide page")


def test_the_emails_show_every_text_as_text(report):
    report, _ = report
    mails = [m for m in mail.outbox if "order #" in m.subject and "problem" in m.body.lower()]
    assert mails
    for message in mails:
        (html, _), = message.alternatives
        assert_escaped(html, ("event_name",), f"the email {message.subject!r}")
        assert "\n" not in message.subject
    closed = [m for m in mails if m.subject.startswith("Problem report closed")]
    assert closed
    assert_escaped(closed[0].alternatives[0][0], ("note",), "the decision email")
