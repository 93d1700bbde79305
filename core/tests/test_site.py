"""Absolute URLs are built on SITE_URL, whatever its trailing slash and the Host a request claimed."""

import pytest
from django.core import mail

from core.site import absolute_url, site_root


@pytest.mark.parametrize("site_url", ["https://stubs.example", "https://stubs.example/"])
def test_a_path_joins_site_url_with_one_slash(settings, site_url):
    settings.SITE_URL = site_url

    assert site_root() == "https://stubs.example"
    assert absolute_url("/orders/7/?checkout=1") == "https://stubs.example/orders/7/?checkout=1"
    assert absolute_url("orders/7/") == "https://stubs.example/orders/7/"


def test_a_forged_host_does_not_reach_the_password_reset_link(settings, client, django_user_model):
    # Even behind a proxy that lets any Host through (ALLOWED_HOSTS would refuse this one).
    settings.ALLOWED_HOSTS = ["*"]
    settings.SITE_URL = "https://stubs.example"
    django_user_model.objects.create_user(username="ann", email="ann@example.com", password="x")
    client.post("/accounts/password/reset/", {"email": "ann@example.com"}, HTTP_HOST="evil.example")

    assert mail.outbox and "https://stubs.example/" in mail.outbox[0].body
    assert "evil.example" not in mail.outbox[0].body
