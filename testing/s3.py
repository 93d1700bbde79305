"""S3 for tests: moto's server mode on 127.0.0.1 and a free port, and the project's storages on it.

`s3_server` starts moto's ThreadedMotoServer once per test process (a real HTTP server, so
django-storages and boto3 talk to it exactly as to AWS). `s3_media` gives a test a fresh bucket
on it and points `STORAGES` at it the way settings does from MEDIA_S3_* (core.storage_settings.s3_storages),
so the tests run the production code path; it returns an `S3Bucket` to look into the bucket.
`s3_outage(settings)` points `STORAGES` at a port nothing listens on: a storage outage.

An app's tests take the fixtures through their conftest, which imports them from here. The
bucket gets the policy deploys use (core.storage.public_photos_policy): anyone may read the
published photos, nothing else.
"""

from __future__ import annotations

import functools
import json
import logging
import socket
import uuid
from dataclasses import dataclass

import boto3
import botocore.session
import pytest
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from core.storage import public_photos_policy
from core.storage_settings import s3_storages

REGION = "us-east-1"
ACCESS_KEY = SECRET_KEY = "testing"  # moto takes any credentials

# Every boto3 session (django-storages makes one per storage, and each test's STORAGES is a new
# storage) builds its own data loader, which reads and parses the service's JSON model and the
# endpoint rules again: ~0.1 s of CPU per client, most of an S3 test's time. The loader only
# memoizes what it read from botocore's data files, which do not change during the run, so the
# test process shares one per search path.
botocore.session.create_loader = functools.cache(botocore.session.create_loader)


@dataclass
class S3Bucket:
    endpoint_url: str
    name: str
    client: object

    def keys(self, prefix: str = "") -> set[str]:
        listed = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return {entry["Key"] for entry in listed.get("Contents", ())}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


def _s3_client(endpoint_url: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def _storages_on(settings, *, endpoint_url: str, bucket: str) -> None:
    settings.MEDIA_S3_BUCKET = bucket
    settings.STORAGES = {
        **settings.STORAGES,
        **s3_storages(
            bucket=bucket,
            endpoint_url=endpoint_url,
            region=REGION,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            timeout=2.0,
        ),
    }


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 over HTTP on a free port; yields its endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_media(s3_server, settings) -> S3Bucket:
    """STORAGES on a fresh bucket of the moto server, as settings builds them from MEDIA_S3_*."""
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    client = _s3_client(s3_server)
    client.create_bucket(Bucket=bucket)
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_photos_policy(bucket)))
    _storages_on(settings, endpoint_url=s3_server, bucket=bucket)
    return S3Bucket(endpoint_url=s3_server, name=bucket, client=client)


def s3_outage(settings) -> None:
    """Point STORAGES at a port nothing listens on (connections refused at once): an outage."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _storages_on(settings, endpoint_url=f"http://127.0.0.1:{port}", bucket="media-unreachable")
