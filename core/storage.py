"""Uploaded files (stub photos, dispute evidence) in Django's `STORAGES`, shared by every app host
and worker (docs/deploy.md, "File storage").

Two storages: `default` holds the stub photos (their kept uploads under incoming/, the published
photos and thumbnails under stubs/), and `evidence` holds dispute evidence, which is private and
has no URL at all (only staff and the order's seller read it, through our own views). Local disk
by default (`make run`); with `MEDIA_S3_BUCKET` set, django-storages' S3 backend (boto3) for both,
evidence under its own prefix, never public. The settings module builds `STORAGES` with
core/storage_settings.py, and the tests build the S3 ones the same way against moto's server.

Storage errors (the bucket unreachable, refused credentials, a full disk) become
`StorageUnavailable`, a 503 with a message the person can act on, never a 500; a file that is
not there stays `FileNotFoundError` for the caller to handle.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.utils.functional import cached_property
from storages.backends.s3 import S3Storage

from core.errors import DomainError

logger = logging.getLogger(__name__)

# The published stub photos and thumbnails (marketplace's Stub and StubPhoto fields upload to
# stubs/) and the orders' copies of them (payments.services.snapshots, orders/<id>/): the only
# objects anyone may read without a signature, as /media/ serves them from local disk. Kept
# uploads (incoming/, with their metadata) and evidence stay private.
PUBLIC_PREFIXES = ("stubs/", "orders/")


class StorageUnavailable(DomainError):
    code = "storage_unavailable"
    status = 503
    message = "Files cannot be stored or read right now. Please try again in a few minutes."


@contextlib.contextmanager
def storage_errors(doing: str):
    """Turn a storage's failure while `doing` something into StorageUnavailable (logged with
    the cause). FileNotFoundError passes through: a missing file is the caller's case."""
    try:
        yield
    except FileNotFoundError:
        raise
    except (BotoCoreError, ClientError, OSError) as error:
        logger.error("File storage failed while %s: %r", doing, error)
        raise StorageUnavailable() from error


class NoUrlMixin:
    """Evidence is read only through views that check who asks: a URL would outlive that check."""

    def url(self, name, *args, **kwargs):
        raise ValueError("Dispute evidence files have no URL; read them through the storage.")


class EvidenceFileSystemStorage(NoUrlMixin, FileSystemStorage):
    """Local evidence: in EVIDENCE_ROOT, by default the folder `evidence` beside MEDIA_ROOT,
    never inside it (MEDIA_ROOT may be served at /media/)."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(
            self._location, settings.EVIDENCE_ROOT or Path(settings.MEDIA_ROOT).parent / "evidence"
        )


class EvidenceS3Storage(NoUrlMixin, S3Storage):
    """Evidence in the media bucket, under its own prefix, stored private (no public-read ACL)."""


def evidence_storage():
    """The `evidence` storage. DisputeEvidenceFile.file names this callable (so migrations record
    it, not its options), but Django calls it once, when models load: code that stores or reads
    evidence calls it each time, so it always uses the STORAGES in force."""
    return storages["evidence"]


def public_photos_policy(bucket: str) -> dict:
    """The bucket policy that lets anyone read the published photos and nothing else: what a
    bucket needs when photo URLs are unsigned (docs/deploy.md, "File storage")."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicStubPhotos",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*" for prefix in PUBLIC_PREFIXES],
            }
        ],
    }


def media_bucket_setup(*, create: bool) -> str:
    """Give the media bucket (MEDIA_S3_BUCKET) the public-photos policy, creating the bucket
    first when `create` (a local S3 server; on AWS the bucket is made with the account's own
    settings). What was done, in words."""
    storage = storages["default"]
    if not isinstance(storage, S3Storage):
        return "The media storage is local disk (MEDIA_S3_BUCKET is not set): nothing to do."
    client = storage.connection.meta.client
    done = []
    with storage_errors("setting up the media bucket"):
        if create and storage.bucket_name not in {
            b["Name"] for b in client.list_buckets().get("Buckets", ())
        }:
            client.create_bucket(Bucket=storage.bucket_name)
            done.append(f"created bucket {storage.bucket_name}")
        if not storage.querystring_auth:
            client.put_bucket_policy(
                Bucket=storage.bucket_name, Policy=json.dumps(public_photos_policy(storage.bucket_name))
            )
            public = " and ".join(f"{prefix}*" for prefix in PUBLIC_PREFIXES)
            done.append(f"anyone may read {public} (the published photos), nothing else")
    return "; ".join(done) or "signed photo URLs (MEDIA_S3_QUERYSTRING_AUTH): the bucket stays private"


def media_origin() -> str:
    """The origin the photos' URLs point at when it is not this site's ('' for local storage):
    the Content Security Policy lets pages load images from it."""
    url = default_storage.url("probe.webp")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
