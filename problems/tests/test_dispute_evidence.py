"""A card dispute on an order with a problem report: the report notes it, and the dispute's page in
admin links to the report and attaches its messages and photos as one PDF, sent to Stripe like an
uploaded file (disputes.evidence_sources)."""

import datetime

import pytest
import stripe
from django.utils import timezone

from disputes.models import Dispute, DisputeEvidenceFile
from disputes.services import dispute_evidence_initial
from marketplace.tests.images import image_upload, photo_tasks_run
from messaging.services import message_post
from payments.models import Order
from payments.tests.webhook_support import deliver
from problems.evidence import evidence_build
from problems.services import problem_report_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputed_report(shipped, webhook_sandbox):
    Order.objects.filter(pk=shipped.pk).update(paid_at=timezone.now() - datetime.timedelta(days=5))
    with photo_tasks_run():
        report, _ = problem_report_open(
            order_id=shipped.pk,
            buyer=shipped.buyer,
            kind="not_as_described",
            description="The stub is a photocopy.",
            photos=[image_upload()],
        )
    message_post(conversation_id=report.conversation_id, sender=shipped.seller, body="It is the original.")
    charge_id = stripe.PaymentIntent.retrieve(
        shipped.payment_intent_id, stripe_account=shipped.stripe_account_id
    ).latest_charge
    webhook_sandbox.open_dispute(charge_id, reason="product_unacceptable")
    deliver(webhook_sandbox)
    report.refresh_from_db()
    return report, Dispute.objects.get(order=shipped)


def test_the_dispute_is_noted_on_the_report(disputed_report):
    report, dispute = disputed_report
    assert report.dispute_opened_at is not None
    assert report.order.audit_events.filter(action="problem.dispute_linked").exists()


def test_the_report_pdf_holds_the_description_messages_and_photos(disputed_report):
    report, dispute = disputed_report
    name, content = evidence_build(dispute)
    assert name == f"problem-report-{report.pk}.pdf"
    assert content.startswith(b"%PDF-") and b"%%EOF" in content[-2048:]
    assert content.count(b"/Type /Page") >= 3  # the page tree, a page of text and a page with the photo
    assert len(content) < 4_500_000


def test_support_attaches_the_report_from_the_disputes_page(client, disputed_report, support):
    report, dispute = disputed_report
    client.force_login(support)
    url = f"/admin/disputes/dispute/{dispute.pk}/respond/"
    page = client.get(url).content.decode()
    assert f"problem report #{report.pk}" in page
    assert f"/admin/problems/problemreport/{report.pk}/change/" in page
    response = client.post(
        url, {**dispute_evidence_initial(dispute=dispute), "action": "draft", "source_problem_report": "1"}
    )
    assert response.status_code == 302
    attached = DisputeEvidenceFile.objects.get(dispute=dispute)
    assert (attached.kind, attached.file_type, attached.name) == (
        "customer_communication",
        "pdf",
        f"problem-report-{report.pk}.pdf",
    )
    on_stripe = stripe.Dispute.retrieve(dispute.stripe_dispute_id, stripe_account=dispute.stripe_account_id)
    assert on_stripe.evidence.customer_communication == attached.stripe_file_id
