"""`manage.py stripe_setup_webhooks --url …` against the sandbox's /v1/webhook_endpoints."""

import re
from io import StringIO

import pytest
import stripe
from django.core.management import CommandError, call_command

from payments.services.webhook_guards import DEAUTHORIZED
from payments.services.webhooks import HANDLERS

pytestmark = pytest.mark.django_db

SITE = "https://stubs.example.com"


def setup(url=SITE) -> str:
    out = StringIO()
    call_command("stripe_setup_webhooks", "--url", url, stdout=out)
    return out.getvalue()


def endpoints():
    return sorted(stripe.WebhookEndpoint.list(limit=100).data, key=lambda e: e.url)


def test_it_registers_both_endpoints_with_exactly_our_event_types_and_prints_their_secrets(stripe_sandbox):
    output = setup()

    platform, connect = endpoints()
    assert platform.url == f"{SITE}/payments/webhook/" and not platform.application
    assert connect.url == f"{SITE}/payments/webhook/connect/" and connect.application
    assert sorted(connect.enabled_events) == sorted([*HANDLERS, DEAUTHORIZED])  # all we handle
    assert sorted(platform.enabled_events) == ["application_fee.created", "application_fee.refunded"]
    secrets = dict(re.findall(r"^(STRIPE_\w*WEBHOOK_SECRET)=(whsec_\w+)$", output, re.MULTILINE))
    assert set(secrets) == {"STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET"}
    assert secrets["STRIPE_WEBHOOK_SECRET"] != secrets["STRIPE_CONNECT_WEBHOOK_SECRET"]


def test_a_second_run_changes_nothing_and_keeps_the_secrets(stripe_sandbox):
    first = setup()
    before = [(e.id, e.url, sorted(e.enabled_events)) for e in endpoints()]

    second = setup()

    assert [(e.id, e.url, sorted(e.enabled_events)) for e in endpoints()] == before
    assert "whsec_" in first and "whsec_" not in second
    assert second.count("unchanged") == 2
    assert "signing secrets you have stay valid" in second
    secrets = {e["id"]: e["_secret"] for e in stripe_sandbox.store.all("webhook_endpoint")}
    assert all(secret in first for secret in secrets.values())


def test_an_endpoint_with_other_events_is_updated_in_place_not_replaced(stripe_sandbox):
    old = stripe.WebhookEndpoint.create(url=f"{SITE}/payments/webhook/connect/", connect=True,
                                        enabled_events=["charge.succeeded"])

    output = setup()

    connect = next(e for e in endpoints() if e.application)
    assert connect.id == old.id and sorted(connect.enabled_events) == sorted([*HANDLERS, DEAUTHORIZED])
    assert re.search(r"^connect\s+updated", output, re.MULTILINE)
    assert "STRIPE_CONNECT_WEBHOOK_SECRET=" not in output  # its secret did not change
    assert "STRIPE_WEBHOOK_SECRET=whsec_" in output
    assert len(endpoints()) == 2


@pytest.mark.parametrize("url", ["http://stubs.example.com", "ftp://stubs.example.com", "stubs.example.com",
                                 "https://stubs.example.com/?x=1"])
def test_a_url_that_is_not_https_is_refused(stripe_sandbox, url):
    with pytest.raises(CommandError, match="https://"):
        setup(url)
    assert endpoints() == []


def test_both_endpoints_are_created_at_the_api_version_the_stripe_sdk_pins(stripe_sandbox):
    setup()

    platform, connect = endpoints()
    assert stripe.api_version  # stripe-python's pinned version, e.g. 2026-08-26.dahlia
    assert platform.api_version == connect.api_version == stripe.api_version
