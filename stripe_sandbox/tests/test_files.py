"""POST /v1/files and friends: uploads on a connected account, Stripe's limits and types, and
dispute evidence that names a file (https://docs.stripe.com/api/files/create,
https://docs.stripe.com/file-upload)."""

import io

import pytest
import stripe

from stripe_sandbox import SandboxServer

from .conftest import pay

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64
FIVE_MB = 5 * 1024 * 1024


def upload(content: bytes, name: str = "evidence.pdf", account: str | None = None,
           purpose: str = "dispute_evidence"):
    data = io.BytesIO(content)
    data.name = name
    return stripe.File.create(purpose=purpose, file=data, stripe_account=account)


def refusal(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


def test_a_pdf_uploaded_on_a_connected_account_can_be_read_back_there(stripe_sandbox, seller):
    uploaded = upload(PDF, "receipt.pdf", seller["id"])

    assert uploaded.id.startswith("file_")
    assert (uploaded.purpose, uploaded.type, uploaded.size, uploaded.filename) == (
        "dispute_evidence", "pdf", len(PDF), "receipt.pdf")
    assert uploaded.expires_at > uploaded.created  # dispute evidence expires (9 months)
    again = stripe.File.retrieve(uploaded.id, stripe_account=seller["id"])
    assert again.size == len(PDF)
    listed = stripe.File.list(purpose="dispute_evidence", stripe_account=seller["id"])
    assert [f.id for f in listed.data] == [uploaded.id]
    contents = stripe_sandbox.request("GET", f"/v1/files/{uploaded.id}/contents", headers={
        "Authorization": f"Bearer {stripe_sandbox.api_key}", "Stripe-Account": seller["id"]})
    assert contents.status == 200 and contents.body == PDF
    assert contents.header("Content-Type") == "application/pdf"


def test_a_file_belongs_to_the_account_that_uploaded_it(stripe_sandbox, seller):
    other = stripe_sandbox.create_account()
    uploaded = upload(PDF, account=seller["id"])

    for account in (other["id"], None):
        error = refusal(lambda account=account: stripe.File.retrieve(uploaded.id, stripe_account=account))
        assert (error.http_status, error.code) == (404, "resource_missing")
    assert stripe.File.list(stripe_account=other["id"]).data == []


def test_the_type_is_read_from_the_content_not_the_name(stripe_sandbox, seller):
    assert upload(PNG, "scan.txt", seller["id"]).type == "png"
    assert upload(b"\xff\xd8\xff\xe0" + b"\x00" * 32, "photo.png", seller["id"]).type == "jpg"

    error = refusal(lambda: upload(GIF, "receipt.pdf", seller["id"]))
    assert (error.http_status, error.param) == (400, "file")
    assert "must be PDF, JPEG, PNG" in error.user_message and "GIF" in error.user_message
    error = refusal(lambda: upload(b"plain text, not a document", "notes.pdf", seller["id"]))
    assert error.param == "file" and "none of these" in error.user_message


def test_dispute_evidence_files_are_at_most_5_mb_and_not_empty(stripe_sandbox, seller):
    assert upload(PDF + b"0" * (FIVE_MB - len(PDF)), account=seller["id"]).size == FIVE_MB

    error = refusal(lambda: upload(PDF + b"0" * (FIVE_MB + 1 - len(PDF)), account=seller["id"]))
    assert (error.http_status, error.param) == (400, "file")
    assert "at most 5 MB" in error.user_message
    error = refusal(lambda: upload(b"", account=seller["id"]))
    assert error.param == "file" and "empty" in error.user_message
    assert len(stripe.File.list(stripe_account=seller["id"]).data) == 1


def test_a_purpose_has_its_own_types_and_an_unknown_one_is_refused(stripe_sandbox, seller):
    assert upload(GIF, "logo.gif", seller["id"], purpose="business_logo").type == "gif"
    error = refusal(lambda: upload(PDF, "logo.pdf", seller["id"], purpose="business_logo"))
    assert error.param == "file"

    error = refusal(lambda: upload(PDF, account=seller["id"], purpose="holiday_snaps"))
    assert (error.http_status, error.param) == (400, "purpose")
    error = refusal(lambda: stripe.File.create(purpose="dispute_evidence", stripe_account=seller["id"]))
    assert (error.code, error.param) == ("parameter_missing", "file")


def _dispute(stripe_sandbox, account_id):
    intent = pay(account_id)
    return stripe_sandbox.open_dispute(intent.latest_charge, reason="product_not_received")


def test_dispute_evidence_takes_the_id_of_the_accounts_own_evidence_file(stripe_sandbox, seller):
    dispute = _dispute(stripe_sandbox, seller["id"])
    receipt = upload(PDF, "receipt.pdf", seller["id"])

    updated = stripe.Dispute.modify(dispute["id"], stripe_account=seller["id"], submit=False,
                                    evidence={"receipt": receipt.id, "shipping_tracking_number": "1Z9"})

    assert updated.evidence.receipt == receipt.id
    assert updated.status == "needs_response"


def test_dispute_evidence_refuses_a_file_of_another_account_or_purpose(stripe_sandbox, seller):
    dispute = _dispute(stripe_sandbox, seller["id"])
    other = stripe_sandbox.create_account()
    elsewhere = upload(PDF, account=other["id"])
    logo = upload(PNG, "logo.png", seller["id"], purpose="business_logo")

    for file_id in (elsewhere.id, logo.id, "file_doesnotexist"):
        error = refusal(lambda file_id=file_id: stripe.Dispute.modify(
            dispute["id"], stripe_account=seller["id"], evidence={"shipping_documentation": file_id}))
        assert (error.http_status, error.param) == (400, "evidence[shipping_documentation]")
    after = stripe.Dispute.retrieve(dispute["id"], stripe_account=seller["id"])
    assert after.status == "needs_response" and after.evidence.shipping_documentation is None


def test_an_upload_over_real_http_reaches_the_sandbox_as_multipart():
    with SandboxServer() as server:
        account = server.app.create_account()
        client = stripe.StripeClient("sk_test_sandbox",
                                     base_addresses={"api": server.url, "files": server.url})
        on_account = {"stripe_account": account["id"]}
        uploaded = client.v1.files.create(
            params={"purpose": "dispute_evidence", "file": io.BytesIO(PNG)}, options=on_account)

        assert (uploaded.type, uploaded.size) == ("png", len(PNG))
        assert client.v1.files.retrieve(uploaded.id, options=on_account).id == uploaded.id
