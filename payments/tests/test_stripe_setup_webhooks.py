"""`manage.py stripe_setup_webhooks --url …` against the sandbox's /v1/webhook_endpoints."""

import ast
import re
from io import StringIO
from pathlib import Path

import pytest
import stripe
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from djstripe import signals as djstripe_signals
from djstripe.models import Event

from payments.services.webhook_guards import DEAUTHORIZED
from payments.services.webhook_setup import webhook_event_types
from payments.services.webhooks import CONNECT, HANDLERS, PLATFORM, webhook_dispatch
from payments.tests.webhook_support import endpoints_register

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


# -- the one list of event types: what we handle, what production enables, what the tests get ---

def _receivers(signal) -> list:
    live = signal._live_receivers(Event)
    return list(live[0]) if isinstance(live, tuple) else list(live)  # (sync, async) since Django 5


def test_the_connect_endpoint_enables_every_type_a_receiver_of_ours_listens_to_and_no_other():
    """What reaches our handlers is decided by dj-stripe's per-type signals: every type whose
    signal runs our dispatch must be enabled (or its events never come), and nothing else need be
    (an enabled type nobody handles is deliveries for nothing). The deauthorization is handled
    before dj-stripe (webhook_guards)."""
    dispatched = {event_type for event_type, signal in djstripe_signals.WEBHOOK_SIGNALS.items()
                  if webhook_dispatch in _receivers(signal)}

    assert dispatched >= {"payment_intent.succeeded", "charge.refunded", "charge.dispute.created",
                          "account.updated", "balance.available"}  # the payments, connect, disputes apps
    assert set(webhook_event_types(CONNECT)) == dispatched | {DEAUTHORIZED}


def test_every_enabled_type_is_an_event_type_stripe_sends():
    """A misspelt type would be refused by Stripe's endpoint API; dj-stripe's signal table is
    its copy of Stripe's event types (https://docs.stripe.com/api/events/types)."""
    for kind in (CONNECT, PLATFORM):
        assert set(webhook_event_types(kind)) <= set(djstripe_signals.WEBHOOK_SIGNALS), kind


# dj-stripe's models the app's own code (not its tests) may read, and the enabled event types that
# fill each. Event, WebhookEventTrigger, WebhookEndpoint and IdempotencyKey are dj-stripe's own
# records, filled by every delivery or request; Account is the connected account, mirrored from
# account.updated (and made for any event of the account). A mirror filled only by an event type
# we do not enable (Charge by charge.succeeded, Payout by payout.paid) would stay empty in
# production: read Stripe's API instead (stripe_api), or enable its events here.
DJSTRIPE_MODELS_READ = {
    "Event": (), "WebhookEventTrigger": (), "WebhookEndpoint": (), "IdempotencyKey": (),
    "Account": ("account.updated",),
}
_NOT_APP_CODE = ("tests", "migrations", "e2e", "bench", "stripe_sandbox", "testing", "security", ".venv")


def _djstripe_models_read_by_the_app() -> dict[str, str]:
    found = {}
    root = Path(settings.BASE_DIR)
    packages = [d for d in root.iterdir() if (d / "__init__.py").exists() and d.name not in _NOT_APP_CODE]
    for path in (path for package in packages for path in package.rglob("*.py")):
        relative = path.relative_to(root)
        if set(relative.parts) & set(_NOT_APP_CODE):
            continue
        text = path.read_text(encoding="utf-8")
        if "djstripe" not in text:
            continue
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "djstripe.models":
                found.update({alias.name: str(relative) for alias in node.names})
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in ("djstripe_models",):
                found[node.attr] = str(relative)
    return found


def test_the_app_reads_no_dj_stripe_mirror_that_an_enabled_event_does_not_fill():
    read = _djstripe_models_read_by_the_app()

    assert "WebhookEventTrigger" in read  # the scan finds what the app imports
    unexplained = {model: where for model, where in read.items() if model not in DJSTRIPE_MODELS_READ}
    assert unexplained == {}
    for model in read:
        assert set(DJSTRIPE_MODELS_READ[model]) <= set(webhook_event_types(CONNECT)), model


def test_the_operations_doc_lists_the_event_types_setup_enables():
    doc = (Path(settings.BASE_DIR) / "docs" / "operations.md").read_text(encoding="utf-8")
    row = next(line for line in doc.splitlines()
               if line.startswith("| Connect (`/payments/webhook/connect/`"))
    listed = re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", row.split("|")[2])

    assert sorted(listed) == webhook_event_types(CONNECT)


def test_the_test_endpoints_enable_exactly_what_setup_enables_in_production(stripe_sandbox):
    """The tests' sandbox endpoints (webhook_support.endpoints_register, behind the webhooks,
    deliver_all and paid_order fixtures) get the deliveries production gets, no more."""
    setup()
    endpoints_register(stripe_sandbox, Client())

    enabled = {}
    for endpoint in stripe_sandbox.store.all("webhook_endpoint"):
        enabled.setdefault(endpoint["_connect"], []).append(sorted(endpoint["enabled_events"]))
    assert enabled[True] == [webhook_event_types(CONNECT)] * 2
    assert enabled[False] == [webhook_event_types(PLATFORM)] * 2
    assert "*" not in webhook_event_types(CONNECT)
