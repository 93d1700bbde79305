"""core/storage.py: the media bucket's setup command against moto's server (testing/s3.py), and
storage failures as a 503 that keeps a missing file a missing file."""

import io
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from django.core.management import CommandError, call_command

from core.storage import StorageUnavailable, storage_errors
from core.storage_settings import s3_storages
from testing.s3 import REGION, s3_outage, s3_server  # noqa: F401 (fixture, taken by name below)


def anonymous_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_setup_makes_the_bucket_and_lets_anyone_read_the_published_photos_only(request, settings):
    endpoint = request.getfixturevalue("s3_server")
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    settings.STORAGES = {
        **settings.STORAGES,
        **s3_storages(
            bucket=bucket, endpoint_url=endpoint, region=REGION, access_key="testing", secret_key="testing"
        ),
    }
    out = io.StringIO()

    call_command("media_bucket_setup", "--create", stdout=out)

    assert f"created bucket {bucket}" in out.getvalue()
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    keys = ["stubs/2026/12/a.jpg", "orders/7/b-a.jpg", "incoming/c.jpg", "evidence/disputes/dp_1/d.pdf"]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert [anonymous_status(f"{endpoint}/{bucket}/{key}") for key in keys] == [200, 200, 403, 403]
    call_command("media_bucket_setup", "--create", stdout=out)  # again: nothing new, same policy
    assert out.getvalue().count("created bucket") == 1


def test_on_local_disk_the_setup_has_nothing_to_do():
    out = io.StringIO()

    call_command("media_bucket_setup", stdout=out)

    assert "local disk" in out.getvalue()


def test_the_setup_against_a_bucket_that_does_not_answer_is_a_command_error(settings):
    s3_outage(settings)

    with pytest.raises(CommandError, match="cannot be stored or read right now"):
        call_command("media_bucket_setup", "--create")


def test_storage_failures_become_a_503_and_a_missing_file_stays_missing():
    for failure in (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), PermissionError("read-only")):
        with pytest.raises(StorageUnavailable) as raised, storage_errors("testing"):
            raise failure
        assert raised.value.status == 503
    with pytest.raises(FileNotFoundError), storage_errors("testing"):
        raise FileNotFoundError("gone")
