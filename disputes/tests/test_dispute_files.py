"""Documents for a dispute's evidence: the seller (order page) and staff (admin's dispute page)
attach PDF/JPEG/PNG files that go to Stripe's Files API on the seller's account and are named in
the evidence's file fields when it is saved or submitted; bad files get a clear 4xx."""

import io

import pytest
import stripe
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.tests.factories import SellerFactory, UserFactory
from core.errors import NotFound, PermissionDenied
from disputes.files import (
    InvalidEvidenceFile,
    dispute_evidence_file_attach,
    dispute_seller_evidence_file_attach,
)
from disputes.models import DisputeEvidenceFile
from disputes.services import InvalidEvidence, dispute_evidence_initial, dispute_respond
from payments.models import AuditEvent
from payments.tests.webhook_support import deliver, sandbox_order

pytestmark = pytest.mark.django_db


MB = 1024 * 1024


def pdf_bytes(padding: int = 0) -> bytes:
    return b"%PDF-1.4\n1 0 obj <<>> endobj\n" + b"%" * padding + b"\ntrailer <<>>\n%%EOF\n"


def pdf(name: str = "receipt.pdf", padding: int = 0) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(padding), content_type="application/pdf")


def png(name: str = "label.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def file_url(dispute):
    return f"/payments/orders/{dispute.order_id}/dispute/files/"


def post_file(client, dispute, body):
    return client.post(file_url(dispute), body, HTTP_ACCEPT="application/json")


def respond_url(dispute):
    return f"/admin/disputes/dispute/{dispute.pk}/respond/"


def on_stripe(dispute):
    return stripe.Dispute.retrieve(dispute.stripe_dispute_id, stripe_account=dispute.stripe_account_id)


# -- the seller, on the order page ---------------------------------------------------------------


def test_the_seller_attaches_a_pdf_that_goes_to_stripe_on_their_account(client, dispute):
    client.force_login(dispute.order.seller)

    response = client.post(file_url(dispute), {"kind": "shipping_documentation", "file": pdf("postage.pdf")},
                           HTTP_ACCEPT="text/html")

    assert response.status_code == 302
    assert response["Location"].endswith(f"/orders/{dispute.order_id}/#dispute")
    attached = DisputeEvidenceFile.objects.get(dispute=dispute)
    assert (attached.kind, attached.name, attached.file_type, attached.size) == (
        "shipping_documentation", "postage.pdf", "pdf", len(pdf_bytes()))
    assert attached.uploaded_by == dispute.order.seller
    uploaded = stripe.File.retrieve(attached.stripe_file_id, stripe_account=dispute.stripe_account_id)
    assert (uploaded.purpose, uploaded.size, uploaded.filename) == (
        "dispute_evidence", attached.size, "postage.pdf")
    assert AuditEvent.objects.filter(order=dispute.order, action="dispute.evidence_file_added").count() == 1
    page = client.get(f"/orders/{dispute.order_id}/").content.decode()
    assert "Proof of shipping:</strong> postage.pdf" in page and "Attached “postage.pdf”" in page


def test_a_json_client_gets_201_with_the_file(client, dispute):
    client.force_login(dispute.order.seller)

    response = post_file(client, dispute, {"kind": "receipt", "file": png("receipt.png")})

    assert response.status_code == 201
    assert response.json()["kind"] == "receipt" and response.json()["stripe_file_id"].startswith("file_")


def test_a_double_click_attaches_the_file_once(client, dispute, webhook_sandbox):
    client.force_login(dispute.order.seller)
    for _ in range(2):
        assert post_file(client, dispute, {"kind": "receipt", "file": pdf()}).status_code == 201

    assert DisputeEvidenceFile.objects.filter(dispute=dispute).count() == 1
    assert len(stripe.File.list(stripe_account=dispute.stripe_account_id).data) == 1


def test_a_new_file_of_a_kind_replaces_the_older_one(client, dispute):
    client.force_login(dispute.order.seller)
    post_file(client, dispute, {"kind": "receipt", "file": pdf("first.pdf")})
    post_file(client, dispute, {"kind": "receipt", "file": pdf("second.pdf", padding=10)})

    files = DisputeEvidenceFile.objects.filter(dispute=dispute).order_by("pk")
    assert [(f.name, f.replaced_at is not None) for f in files] == [
        ("first.pdf", True), ("second.pdf", False)]


@pytest.mark.parametrize(("upload", "words"), [
    (SimpleUploadedFile("receipt.pdf", b"just some text, renamed", content_type="application/pdf"),
     "not a PDF, JPEG or PNG"),
    (SimpleUploadedFile("receipt.pdf", b"GIF89a" + b"\x00" * 40, content_type="application/pdf"),
     "not a PDF, JPEG or PNG"),
    (SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, content_type="image/png"),
     "not a PDF, JPEG or PNG"),  # a PNG's signature with nothing behind it
    (SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"), "empty"),
])
def test_a_file_that_is_not_what_it_says_or_empty_is_a_400_and_nothing_goes_to_stripe(client, dispute, upload,
                                                                                      words):
    client.force_login(dispute.order.seller)

    response = post_file(client, dispute, {"kind": "receipt", "file": upload})

    assert response.status_code == 400 and words in response.json()["error"]["message"]
    assert not DisputeEvidenceFile.objects.exists()
    assert stripe.File.list(stripe_account=dispute.stripe_account_id).data == []


def test_a_file_over_5_mb_is_a_413_and_never_reaches_stripe(client, dispute):
    client.force_login(dispute.order.seller)

    response = post_file(client, dispute, {"kind": "receipt", "file": pdf(padding=5 * MB)})

    assert response.status_code == 413 and "at most 5 MB" in response.json()["error"]["message"]
    assert stripe.File.list(stripe_account=dispute.stripe_account_id).data == []


def test_the_files_of_a_dispute_together_are_at_most_4_5_mb(client, dispute):
    client.force_login(dispute.order.seller)
    assert post_file(client, dispute, {"kind": "receipt", "file": pdf(padding=3 * MB)}).status_code == 201

    second = post_file(client, dispute, {"kind": "customer_communication", "file": pdf(padding=2 * MB)})
    replacing = post_file(client, dispute, {"kind": "receipt", "file": pdf("smaller.pdf", padding=4 * MB)})

    assert second.status_code == 413 and "4.5 MB" in second.json()["error"]["message"]
    assert replacing.status_code == 201  # a replacement counts instead of the file it replaces


@pytest.mark.parametrize("body", [{"kind": "receipt"}, {"kind": "passport", "file": "x"}, {}])
def test_no_file_or_an_unknown_kind_is_a_400(client, dispute, body):
    client.force_login(dispute.order.seller)
    if "file" in body:
        body = {**body, "file": pdf()}

    assert post_file(client, dispute, body).status_code == 400
    assert not DisputeEvidenceFile.objects.exists()


def test_a_stranger_the_buyer_and_another_seller_get_404(client, dispute):
    for user in (UserFactory(), dispute.order.buyer, SellerFactory()):
        client.force_login(user)
        assert post_file(client, dispute, {"kind": "receipt", "file": pdf()}).status_code == 404
    assert not DisputeEvidenceFile.objects.exists()


def test_anonymous_is_refused_and_get_is_not_allowed(client, dispute):
    assert client.post(file_url(dispute), {"kind": "receipt", "file": pdf()}).status_code == 403
    client.force_login(dispute.order.seller)
    assert client.get(file_url(dispute)).status_code == 405


def test_once_the_evidence_was_submitted_a_file_is_a_409(client, dispute, support):
    dispute_respond(dispute_id=dispute.pk, evidence={}, submit=True, actor=support)
    client.force_login(dispute.order.seller)

    response = post_file(client, dispute, {"kind": "receipt", "file": pdf()})

    assert response.status_code == 409 and "can no longer be added" in response.json()["error"]["message"]


def test_uploads_are_rate_limited_per_user(client, dispute, settings):
    settings.DISPUTE_EVIDENCE_UPLOAD_RATE_PER_USER = "2/h"
    client.force_login(dispute.order.seller)
    statuses = [post_file(client, dispute, {"kind": "receipt", "file": pdf(padding=n)}).status_code
                for n in range(3)]

    assert statuses == [201, 201, 429]


# -- staff, on the admin dispute page ------------------------------------------------------------


def test_staff_attach_a_file_with_save_draft_and_stripe_gets_its_id_in_the_evidence(client, dispute, support):
    client.force_login(support)
    form = {**dispute_evidence_initial(dispute=dispute), "action": "draft",
            "file_receipt": pdf("invoice.pdf")}

    response = client.post(respond_url(dispute), form)

    assert response.status_code == 302
    attached = DisputeEvidenceFile.objects.get(dispute=dispute)
    assert attached.uploaded_by == support
    assert on_stripe(dispute).evidence.receipt == attached.stripe_file_id
    page = client.get(respond_url(dispute)).content.decode()
    assert "invoice.pdf" in page and attached.stripe_file_id in page


def test_submit_asks_first_listing_the_files_and_the_submission_names_them(client, dispute, support,
                                                                          webhook_sandbox):
    client.force_login(support)
    form = {**dispute_evidence_initial(dispute=dispute), "action": "submit"}

    asked = client.post(respond_url(dispute), {**form, "file_shipping_documentation": png("label.png")})

    assert asked.status_code == 200 and "The bank gets this once" in asked.content.decode()
    assert "label.png" in asked.content.decode()
    dispute.refresh_from_db()
    assert dispute.submitted_at is None and on_stripe(dispute).status == "needs_response"
    submitted = client.post(respond_url(dispute), {**form, "confirmed": "1"})
    deliver(webhook_sandbox)

    assert submitted.status_code == 302
    attached = DisputeEvidenceFile.objects.get(dispute=dispute)
    assert on_stripe(dispute).evidence.shipping_documentation == attached.stripe_file_id
    assert on_stripe(dispute).status == "under_review"


def test_a_bad_file_on_the_admin_page_is_a_message_and_nothing_is_sent(client, dispute, support):
    client.force_login(support)
    form = {**dispute_evidence_initial(dispute=dispute), "action": "submit",
            "file_receipt": SimpleUploadedFile("receipt.pdf", b"not a pdf")}

    response = client.post(respond_url(dispute), form)

    assert response.status_code == 200
    assert "Receipt “receipt.pdf”: This file is not a PDF, JPEG or PNG" in response.content.decode()
    assert "The bank gets this once" not in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.submitted_at is None and not DisputeEvidenceFile.objects.exists()


def test_staff_without_the_support_or_finance_role_cannot_attach(client, dispute):
    plain_staff = UserFactory(is_staff=True)

    with pytest.raises(PermissionDenied):
        dispute_evidence_file_attach(dispute_id=dispute.pk, kind="receipt", upload=pdf(), actor=plain_staff)
    client.force_login(plain_staff)
    form = {**dispute_evidence_initial(dispute=dispute), "action": "draft", "file_receipt": pdf()}
    assert client.post(respond_url(dispute), form).status_code == 403
    assert not DisputeEvidenceFile.objects.exists()


def test_a_file_id_of_another_account_is_a_clear_400_and_the_evidence_is_not_submitted(dispute, support,
                                                                                      webhook_sandbox):
    other = webhook_sandbox.create_account()
    elsewhere = stripe.File.create(purpose="dispute_evidence", file=io.BytesIO(pdf_bytes()),
                                   stripe_account=other["id"])
    DisputeEvidenceFile.objects.create(dispute=dispute, kind="receipt", stripe_file_id=elsewhere.id,
                                       name="receipt.pdf", size=10, file_type="pdf", sha256="0" * 64,
                                       uploaded_by=support)

    with pytest.raises(InvalidEvidence) as refused:
        dispute_respond(dispute_id=dispute.pk, evidence={}, submit=True, actor=support)

    assert refused.value.status == 400 and "Stripe refused an attached file" in refused.value.message
    dispute.refresh_from_db()
    assert dispute.submitted_at is None and on_stripe(dispute).status == "needs_response"


def test_the_service_refuses_a_file_for_an_order_without_a_dispute(webhook_sandbox):
    order = sandbox_order(webhook_sandbox)

    with pytest.raises(NotFound) as refused:
        dispute_seller_evidence_file_attach(order_id=order.pk, seller=order.seller, kind="receipt",
                                            upload=pdf())

    assert refused.value.status == 404 and "no dispute" in refused.value.message


def test_stripes_own_refusal_of_a_file_is_a_400(dispute, support, webhook_sandbox):
    webhook_sandbox.fail_next("/v1/files", status=400)

    with pytest.raises(InvalidEvidenceFile) as refused:
        dispute_evidence_file_attach(dispute_id=dispute.pk, kind="receipt", upload=pdf(), actor=support)

    assert refused.value.status == 400 and "Stripe refused the file" in refused.value.message


def test_a_file_name_with_markup_shows_as_text_to_the_seller_and_staff_and_is_kept_as_typed(client, dispute,
                                                                                            support):
    """A file's name is the uploader's computer's, kept as typed (security/test_xss.py covers the
    other texts a user types)."""
    name = "<img src=x onerror=xss_file_name()>.pdf"
    client.force_login(dispute.order.seller)
    assert post_file(client, dispute, {"kind": "receipt", "file": pdf(name)}).status_code == 201
    pages = {"the seller's order page": client.get(f"/orders/{dispute.order_id}/")}
    client.force_login(support)
    pages["the staff's dispute page"] = client.get(respond_url(dispute))
    for where, response in pages.items():
        body = response.content.decode()
        assert response.status_code == 200 and "xss_file_name()" in body, where
        assert "<img src=x onerror=" not in body, where
    assert "<img src=x" in AuditEvent.objects.get(action="dispute.evidence_file_added").message
