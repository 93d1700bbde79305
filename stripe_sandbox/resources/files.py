"""File uploads: ``POST /v1/files`` (multipart), retrieve, list, and the contents.

What Stripe does, and the sandbox with it (docs/sandbox.md has the table):

* An upload is a ``multipart/form-data`` POST with ``purpose`` and ``file``; stripe-python sends
  it to ``stripe.upload_api_base`` (files.stripe.com), not the API host. The file belongs to the
  account that uploaded it (``Stripe-Account`` for a connected account), and only that account
  can read it or use its id. https://docs.stripe.com/api/files/create
* Each purpose takes some types up to a size (the table of https://docs.stripe.com/file-upload):
  ``dispute_evidence`` takes PDF, JPEG or PNG up to 5 MB and expires after 9 months. The type is
  read from the content, not the name (stripe-python sends every file as
  application/octet-stream); an empty, too large or other file is a 400 ``invalid_request_error``
  naming ``file``. An unknown purpose is a 400 naming ``purpose``.
* ``GET /v1/files/:id``, ``GET /v1/files`` (newest first, filter ``purpose``),
  ``GET /v1/files/:id/contents`` (the bytes). https://docs.stripe.com/api/files/retrieve
* Dispute evidence's file fields (``receipt``, ``shipping_documentation``, …) take the id of a
  ``dispute_evidence`` file of the dispute's own account (stripe_sandbox/resources/disputes.py).
"""

from __future__ import annotations

import base64
from typing import Any

from ..errors import invalid_request, missing_param
from ..messages import Request, Response
from ..objects import empty_list, from_fixture, new_id
from .base import ApiBase

MB = 1024 * 1024
NINE_MONTHS = 9 * 30 * 86400

# purpose -> (types it takes, largest size in bytes, seconds until it expires or None), from the
# file upload guide's table. Purposes Stripe makes files for itself (reports, …) are not uploads.
PURPOSES: dict[str, tuple[tuple[str, ...], int, int | None]] = {
    "account_requirement": (("pdf", "jpg", "png"), 16 * MB, None),
    "additional_verification": (("pdf", "jpg", "png"), 16 * MB, None),
    "business_icon": (("jpg", "png", "gif"), 512 * 1024, None),
    "business_logo": (("jpg", "png", "gif"), 512 * 1024, None),
    "customer_signature": (("jpg", "png"), 4 * MB, 7 * 86400),
    "dispute_evidence": (("pdf", "jpg", "png"), 5 * MB, NINE_MONTHS),
    "identity_document": (("pdf", "jpg", "png"), 16 * MB, None),
}
TYPE_NAMES = {"pdf": "PDF", "jpg": "JPEG", "png": "PNG", "gif": "GIF"}
# The first bytes of each type (its "magic number").
SIGNATURES = ((b"%PDF-", "pdf"), (b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"),
              (b"GIF87a", "gif"), (b"GIF89a", "gif"))
CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "gif": "image/gif"}


def sniff_type(content: bytes) -> str | None:
    """The file's type by its first bytes, whatever its name says; None when not one we know."""
    return next((kind for magic, kind in SIGNATURES if content.startswith(magic)), None)


def _size_label(size: int) -> str:
    return f"{size // MB} MB" if size >= MB else f"{size // 1024} KB"


class FilesApi(ApiBase):
    def create_file(self, req: Request) -> dict[str, Any]:
        purpose = req.params.get("purpose")
        if not purpose:
            raise missing_param("purpose")
        if purpose not in PURPOSES:
            raise invalid_request(f"Invalid purpose: must be one of {', '.join(sorted(PURPOSES))}",
                                  param="purpose")
        if "file" not in req.files:
            raise missing_param("file")
        filename, content = req.files["file"]
        types, max_size, lifetime = PURPOSES[purpose]
        if not content:
            raise invalid_request("The file you uploaded is empty.", param="file")
        if len(content) > max_size:
            raise invalid_request(
                f"The file you uploaded is {len(content)} bytes; files for purpose '{purpose}' can be "
                f"at most {_size_label(max_size)}.", param="file")
        kind = sniff_type(content)
        if kind not in types:
            allowed = ", ".join(TYPE_NAMES[t] for t in types)
            raise invalid_request(
                f"Files for purpose '{purpose}' must be {allowed}; the file you uploaded is "
                f"{'a ' + TYPE_NAMES[kind] if kind else 'none of these'}.", param="file")
        file_id = new_id("file")
        created = self.now()
        obj = from_fixture(
            "file", id=file_id, created=created, expires_at=created + lifetime if lifetime else None,
            filename=filename or file_id, links=empty_list(f"/v1/file_links?file={file_id}"),
            purpose=purpose, size=len(content), title=None, type=kind,
            url=f"{self.public_url()}/v1/files/{file_id}/contents",
            _content=base64.b64encode(content).decode("ascii"))
        self.store.add(obj, req.scope)
        return obj

    def retrieve_file(self, req: Request) -> dict[str, Any]:
        return self.find("file", req.path_args["id"], req.scope)

    def list_files(self, req: Request) -> dict[str, Any]:
        items = list(self.store.all("file", req.scope))
        if req.params.get("purpose"):
            items = [f for f in items if f["purpose"] == req.params["purpose"]]
        return self.list_response(req, items, "/v1/files")

    def file_contents(self, req: Request) -> Response:
        obj = self.find("file", req.path_args["id"], req.scope)
        return Response(200, base64.b64decode(obj["_content"]),
                        [("Content-Type", CONTENT_TYPES.get(obj["type"], "application/octet-stream"))])

    def evidence_file(self, file_id: str, scope: str, *, param: str) -> dict[str, Any]:
        """A file a dispute's evidence may name: a ``dispute_evidence`` upload of that account."""
        obj = self.store.get(file_id, scope, "file")
        if obj is None:
            raise invalid_request(f"No such file upload: '{file_id}'", param=param,
                                  code="resource_missing")
        if obj["purpose"] != "dispute_evidence":
            raise invalid_request(
                f"The file {file_id} was uploaded with purpose '{obj['purpose']}'; dispute evidence "
                "takes files uploaded with purpose 'dispute_evidence'.", param=param)
        return obj
