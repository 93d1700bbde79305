"""Documents for a dispute's evidence: staff (admin's dispute page) and the seller (their order
page) attach a receipt, proof of shipping, messages with the buyer or another document.

Each file is checked here first (type by its content, not its name; size; not empty), kept in
the private `evidence` storage (core/storage.py: local disk or the S3 bucket, never a public URL),
then read back from there and uploaded with Stripe's Files API (`purpose=dispute_evidence`) on the
seller's account, where the direct charge and its dispute live
(payments.stripe_api.dispute_evidence_file_create), and recorded as a `DisputeEvidenceFile`. A
file Stripe refused, or one for a dispute that closed meanwhile, is deleted from the storage.
The evidence staff save or submit names each kind's current file in Stripe's field of that kind
(`disputes.selectors.dispute_evidence_file_ids`, used by disputes.services.dispute_respond).
Stripe's evidence takes one file per field, so a new file of a kind replaces the older one; the
same file again (a double click) is the same row.

Limits (docs/operations.md, "Dispute evidence files"): PDF, JPEG or PNG, at most 5 MB each
(Stripe's Files API for dispute evidence, https://docs.stripe.com/file-upload), and at most
4.5 MB for all of a dispute's files together (https://docs.stripe.com/disputes/responding).
Stripe is called outside any row lock: the dispute is checked under its lock before the upload
and again after it, when the row is written.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import unicodedata
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from core.errors import DomainError, NotFound, PermissionDenied
from core.storage import StorageUnavailable, evidence_storage, storage_errors
from disputes.evidence_sources import evidence_source
from disputes.models import Dispute, DisputeEvidenceFile, EvidenceFileKind
from disputes.services import DisputeNotAnswerable, dispute_can_respond
from payments import stripe_api
from payments.models import Order
from payments.services.audit import audit_record
from payments.stripe_api import StripeRefused

logger = logging.getLogger(__name__)

EVIDENCE_FILE_MAX_BYTES = 5 * 1024 * 1024
EVIDENCE_FILES_TOTAL_MAX_BYTES = 4_718_592  # 4.5 MB
EVIDENCE_FILE_TYPES = {"pdf": "PDF", "jpg": "JPEG", "png": "PNG"}
NAME_MAX_CHARS = 255
LIMITS_TEXT = "PDF, JPEG or PNG, at most 5 MB each and 4.5 MB for all of a dispute's files together"


class InvalidEvidenceFile(DomainError):
    code = "invalid_evidence_file"
    status = 400
    message = f"Attach a {LIMITS_TEXT}."


class EvidenceFileTooLarge(InvalidEvidenceFile):
    code = "evidence_file_too_large"
    status = 413


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def evidence_file_type(content: bytes) -> str | None:
    """pdf, jpg or png by the file's content (its first bytes, and for images the header Pillow
    reads); None for anything else, whatever its name says."""
    if content.startswith(b"%PDF-"):
        return "pdf" if b"%%EOF" in content[-2048:] else None
    magic = "jpg" if content.startswith(b"\xff\xd8\xff") else \
        "png" if content.startswith(b"\x89PNG\r\n\x1a\n") else None
    if magic is None:
        return None

    try:
        with Image.open(io.BytesIO(content)) as image:  # the header only; no pixels decoded
            found = {"JPEG": "jpg", "PNG": "png"}.get(image.format or "")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return found if found == magic else None


def _clean_name(name: str, file_type: str) -> str:
    """The name as the seller's or staff member's computer had it, without a path or control
    characters, cut to fit; a file with no usable name gets one from its type."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[-NAME_MAX_CHARS:] or f"evidence.{file_type}"


def _read(upload) -> tuple[bytes, str]:
    """The upload's bytes and name, or InvalidEvidenceFile / EvidenceFileTooLarge."""
    if upload is None or not hasattr(upload, "read"):
        raise InvalidEvidenceFile(f"Choose a file to attach ({LIMITS_TEXT}).")
    size = getattr(upload, "size", None)
    if size is not None and size > EVIDENCE_FILE_MAX_BYTES:  # refused before it is read
        raise EvidenceFileTooLarge(f"The file is {_mb(size)}; a file can be at most 5 MB ({LIMITS_TEXT}).")
    content = upload.read(EVIDENCE_FILE_MAX_BYTES + 1)
    if len(content) > EVIDENCE_FILE_MAX_BYTES:
        raise EvidenceFileTooLarge(f"The file is over 5 MB; a file can be at most 5 MB ({LIMITS_TEXT}).")
    if not content:
        raise InvalidEvidenceFile("The file is empty: choose the document itself.")
    return content, getattr(upload, "name", "") or ""


def _check_open(row: Dispute) -> None:
    if not row.needs_response:
        raise DisputeNotAnswerable("The response to this dispute has already been sent or it is closed; "
                                   "files can no longer be added.")


def _check_total(row: Dispute, *, kind: str, size: int) -> None:
    others = sum(f.size for f in row.evidence_files.filter(replaced_at__isnull=True).exclude(kind=kind))
    if others + size > EVIDENCE_FILES_TOTAL_MAX_BYTES:
        raise EvidenceFileTooLarge(
            f"With this file the dispute's files come to {_mb(others + size)}; all of them together can be "
            "at most 4.5 MB. Make it smaller (a PDF of fewer pages, a smaller photo) or leave one out.")


def _same_file(row: Dispute, *, kind: str, digest: str) -> DisputeEvidenceFile | None:
    return row.evidence_files.filter(kind=kind, sha256=digest, replaced_at__isnull=True).first()


def _attach(*, dispute_id: int, kind: str, upload, actor, by_seller: bool,
            request=None) -> DisputeEvidenceFile:
    if kind not in EvidenceFileKind.values:
        raise InvalidEvidenceFile("Choose what the document is: "
                                  + ", ".join(label.lower() for label in EvidenceFileKind.labels) + ".")
    content, name = _read(upload)
    file_type = evidence_file_type(content)
    if file_type is None:
        raise InvalidEvidenceFile(f"This file is not a PDF, JPEG or PNG (whatever its name says); "
                                  f"the bank takes only those ({LIMITS_TEXT}).")
    name, digest = _clean_name(name, file_type), hashlib.sha256(content).hexdigest()

    with transaction.atomic():
        row = Dispute.objects.select_for_update().select_related("order").get(pk=dispute_id)
        _check_open(row)
        already = _same_file(row, kind=kind, digest=digest)
        if already is not None:
            return already  # the same file again (a double click): nothing new
        _check_total(row, kind=kind, size=len(content))
    stored = _store(row, content=content, file_type=file_type)
    try:
        attached = _send(row, kind=kind, stored=stored, name=name, digest=digest,
                         file_type=file_type, actor=actor, by_seller=by_seller, request=request)
    except BaseException:
        _discard(stored)
        raise
    if attached.file.name != stored:
        _discard(stored)  # a second click that got this far: the first row and its file stand
    return attached


def _store(row: Dispute, *, content: bytes, file_type: str) -> str:
    """Keep the checked bytes in the private evidence storage; the name they are kept under."""
    field = DisputeEvidenceFile._meta.get_field("file")
    name = f"{row.stripe_dispute_id}/{uuid.uuid4().hex}.{file_type}"
    with storage_errors("keeping a dispute evidence file"):
        return evidence_storage().save(field.generate_filename(None, name), ContentFile(content))


def _discard(stored: str) -> None:
    """Delete a kept file no row names (Stripe refused it, or the dispute closed meanwhile)."""
    try:
        with storage_errors("deleting a dispute evidence file"):
            evidence_storage().delete(stored)
    except StorageUnavailable:
        logger.warning("Dispute evidence file %s was left in storage: the storage failed", stored)


def _send(row: Dispute, *, kind: str, stored: str, name: str, digest: str, file_type: str, actor,
          by_seller: bool, request) -> DisputeEvidenceFile:
    """Upload the kept file to Stripe, read from the storage (so Stripe gets exactly what we keep,
    whichever host kept it), and record it under the dispute's lock."""
    with storage_errors("reading a dispute evidence file"), evidence_storage().open(stored) as kept:
        content = kept.read()
    if hashlib.sha256(content).hexdigest() != digest:
        raise StorageUnavailable()  # the storage gave back other bytes than it was given
    try:
        uploaded = stripe_api.dispute_evidence_file_create(dispute=row, content=content, filename=name,
                                                           actor=actor)
    except StripeRefused as error:
        # Stripe's own check of the file (its type or size): the person's file is at fault.
        raise InvalidEvidenceFile(f"Stripe refused the file: {error.message}") from error
    with transaction.atomic():
        row = Dispute.objects.select_for_update().select_related("order").get(pk=row.pk)
        _check_open(row)  # submitted or closed while the file was on its way: not named anywhere
        already = _same_file(row, kind=kind, digest=digest)
        if already is not None:
            return already  # a second click that uploaded too: the first row stands
        _check_total(row, kind=kind, size=len(content))
        now = timezone.now()
        replaced = list(row.evidence_files.filter(kind=kind, replaced_at__isnull=True))
        row.evidence_files.filter(pk__in=[f.pk for f in replaced]).update(replaced_at=now)
        attached = DisputeEvidenceFile.objects.create(
            dispute=row, kind=kind, stripe_file_id=uploaded.id, name=name, size=len(content),
            file_type=file_type, sha256=digest, file=stored, uploaded_by=actor)
        who = "The seller" if by_seller else "Staff"
        audit_record(action="dispute.evidence_file_added", actor=actor, order=row.order, request=request,
                     message=f"{who} attached {attached.get_kind_display().lower()} “{name}” "
                             f"({attached.size_display}) to the dispute"
                             + (f", replacing “{replaced[0].name}”" if replaced else ""),
                     data={"dispute_id": row.stripe_dispute_id, "file_id": uploaded.id, "kind": kind,
                           "size": len(content)})
    return attached


def dispute_evidence_file_attach(*, dispute_id: int, kind: str, upload, actor,
                                 request=None) -> DisputeEvidenceFile:
    """Staff attach a document (the Support and Finance roles, like every answer to a dispute)."""
    if not dispute_can_respond(user=actor):
        raise PermissionDenied("Answering disputes needs the Support or Finance role.")
    if not Dispute.objects.filter(pk=dispute_id).exists():
        raise NotFound("No such dispute.")
    return _attach(dispute_id=dispute_id, kind=kind, upload=upload, actor=actor, by_seller=False,
                   request=request)


def dispute_seller_evidence_file_attach(*, order_id: int, seller, kind: str, upload,
                                        request=None) -> DisputeEvidenceFile:
    """The order's seller attaches a document to the order's (latest) dispute; anyone else, or
    an order without a dispute, gets 404."""
    order = Order.objects.filter(pk=order_id, seller=seller).first() if seller.is_authenticated else None
    dispute = Dispute.objects.filter(order=order).first() if order is not None else None  # the latest
    if dispute is None:
        raise NotFound("No such order." if order is None else "This order has no dispute.")
    return _attach(dispute_id=dispute.pk, kind=kind, upload=upload, actor=seller, by_seller=True,
                   request=request)


# -- reads ---------------------------------------------------------------------------------------


def dispute_evidence_files_current(*, dispute: Dispute) -> list[DisputeEvidenceFile]:
    """The file of each kind the evidence names now, in the order of the kinds."""
    order = {kind: i for i, kind in enumerate(EvidenceFileKind.values)}
    files = dispute.evidence_files.filter(replaced_at__isnull=True).select_related("uploaded_by")
    return sorted(files, key=lambda f: order[f.kind])


def dispute_evidence_source_attach(*, dispute_id: int, source_key: str, actor,
                                   request=None) -> DisputeEvidenceFile:
    """Staff attach what another app offers for the dispute (disputes.evidence_sources), as a file
    of the source's kind, checked and sent like an upload."""
    if not dispute_can_respond(user=actor):
        raise PermissionDenied("Answering disputes needs the Support or Finance role.")
    dispute = Dispute.objects.filter(pk=dispute_id).select_related("order").first()
    source = evidence_source(source_key)
    if dispute is None:
        raise NotFound("No such dispute.")
    if source is None or not source.offer(dispute):
        raise InvalidEvidenceFile("There is nothing of that kind to attach to this dispute.")
    name, content = source.build(dispute)
    return _attach(dispute_id=dispute.pk, kind=source.kind, upload=ContentFile(content, name=name),
                   actor=actor, by_seller=False, request=request)
