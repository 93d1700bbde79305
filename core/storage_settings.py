"""The `STORAGES` entries of the uploads (core/storage.py), for the settings module and the tests.

Imports nothing of Django's or ours: the settings module imports it while it is being loaded, and
a module that reads settings at import (as DRF does) would see them half made.
"""

from botocore.config import Config

S3_BACKEND = "storages.backends.s3.S3Storage"
EVIDENCE_S3_PREFIX = "evidence"


def local_storages() -> dict[str, dict]:
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "evidence": {"BACKEND": "core.storage.EvidenceFileSystemStorage"},
    }


def s3_storages(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    custom_domain: str = "",
    querystring_auth: bool = False,
    querystring_expire: int = 3600,
    timeout: float = 5.0,
) -> dict[str, dict]:
    """The `default` and `evidence` storages on one S3 bucket (AWS or any S3-compatible server).

    Photos are public content: their URLs are unsigned by default, so a cached page or card keeps
    working (a signed URL expires while the page cache still serves it); `querystring_auth` signs
    them for a bucket that must stay private (docs/deploy.md). A short timeout and one retry, so
    an unreachable bucket costs a request seconds, not minutes. With an `endpoint_url` (moto,
    MinIO, another provider) the bucket is addressed by path, which every such server answers.
    """
    client_config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": 2, "mode": "standard"},
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint_url else "auto"},
    )
    common = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        "file_overwrite": False,  # as on local disk: a name taken gets a suffix, never overwritten
        "client_config": client_config,
    }
    return {
        "default": {
            "BACKEND": S3_BACKEND,
            "OPTIONS": {
                **common,
                "custom_domain": custom_domain or None,
                "querystring_auth": querystring_auth,
                "querystring_expire": querystring_expire,
            },
        },
        "evidence": {
            "BACKEND": "core.storage.EvidenceS3Storage",
            "OPTIONS": {**common, "location": EVIDENCE_S3_PREFIX, "default_acl": "private"},
        },
    }
