"""Dispute evidence files are kept in the private `evidence` storage (core/storage.py) and sent to
Stripe's Files API from there: on S3 (moto's server) under evidence/, never readable without
credentials and with no URL; on local disk beside MEDIA_ROOT, never under it. A file Stripe
refuses is not kept, and an unreachable bucket is a 503 that sends nothing to Stripe."""

import urllib.error
import urllib.request
from pathlib import Path

import pytest
import stripe

from core.storage import evidence_storage
from disputes.files import InvalidEvidenceFile, dispute_evidence_file_attach
from disputes.models import DisputeEvidenceFile
from disputes.tests.test_dispute_files import pdf, pdf_bytes, post_file
from testing.s3 import s3_outage

pytestmark = pytest.mark.django_db


def stripe_contents(sandbox, dispute, file_id: str) -> bytes:
    response = sandbox.request(
        "GET",
        f"/v1/files/{file_id}/contents",
        headers={"Authorization": f"Bearer {sandbox.api_key}", "Stripe-Account": dispute.stripe_account_id},
    )
    assert response.status == 200
    return response.body


def test_the_sellers_file_is_kept_private_in_the_bucket_and_stripe_gets_the_same_bytes(
    s3_media, client, dispute, webhook_sandbox, settings
):
    client.force_login(dispute.order.seller)

    response = post_file(client, dispute, {"kind": "receipt", "file": pdf("receipt.pdf", padding=300)})

    assert response.status_code == 201
    attached = DisputeEvidenceFile.objects.get(dispute=dispute)
    key = f"evidence/{attached.file.name}"
    assert attached.file.name.startswith(f"disputes/{dispute.stripe_dispute_id}/")
    assert s3_media.keys() == {key}
    assert s3_media.read(key) == pdf_bytes(300)
    assert stripe_contents(webhook_sandbox, dispute, attached.stripe_file_id) == pdf_bytes(300)
    with pytest.raises(urllib.error.HTTPError) as anonymous:  # the object itself, without credentials
        urllib.request.urlopen(f"{s3_media.endpoint_url}/{s3_media.name}/{key}", timeout=10)
    assert anonymous.value.code == 403
    with pytest.raises(ValueError):
        evidence_storage().url(attached.file.name)
    assert not Path(settings.MEDIA_ROOT).parent.joinpath("evidence").exists()  # nothing on this host's disk


def test_a_file_stripe_refuses_is_not_kept(s3_media, dispute, support, webhook_sandbox):
    webhook_sandbox.fail_next("/v1/files", status=400)

    with pytest.raises(InvalidEvidenceFile):
        dispute_evidence_file_attach(dispute_id=dispute.pk, kind="receipt", upload=pdf(), actor=support)

    assert s3_media.keys() == set()
    assert not DisputeEvidenceFile.objects.exists()


def test_an_upload_while_the_bucket_is_unreachable_is_a_503_and_nothing_goes_to_stripe(
    settings, client, dispute
):
    s3_outage(settings)
    client.force_login(dispute.order.seller)

    response = post_file(client, dispute, {"kind": "receipt", "file": pdf()})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert not DisputeEvidenceFile.objects.exists()
    assert stripe.File.list(stripe_account=dispute.stripe_account_id).data == []


def test_on_local_disk_a_file_is_kept_beside_media_root_never_under_it(client, dispute, settings):
    client.force_login(dispute.order.seller)

    assert post_file(client, dispute, {"kind": "receipt", "file": pdf()}).status_code == 201

    attached = DisputeEvidenceFile.objects.get(dispute=dispute)
    kept = Path(settings.MEDIA_ROOT).parent / "evidence" / attached.file.name
    assert kept.read_bytes() == pdf_bytes()
    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*.pdf"))
