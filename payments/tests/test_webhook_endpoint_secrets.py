"""Once webhooks have arrived, our dj-stripe WebhookEndpoint
rows satisfy dj-stripe's own checks, so the documented release gate (`check --deploy
--fail-level WARNING`) can pass; djstripe.W005 used to fire for ever because the rows had no
secret. Tested on a database that has received webhooks through the real signed views."""

import pytest
from django.core import checks
from djstripe.models import WebhookEndpoint

from payments.services.webhooks import ENDPOINTS, webhook_endpoints_sync_secrets
from payments.tests.webhook_support import deliver, pay, sandbox_order

pytestmark = pytest.mark.django_db


def djstripe_messages():
    found = checks.run_checks(include_deployment_checks=True)
    return [m for m in found
            if m.id.startswith("djstripe.") and m.level >= checks.WARNING and not m.is_silenced()]


@pytest.fixture
def received_webhooks(webhook_sandbox):
    """A purchase whose events came in on both endpoints (platform and connect)."""
    pay(sandbox_order(webhook_sandbox))
    deliver(webhook_sandbox)
    assert set(WebhookEndpoint.objects.values_list("id", flat=True)) >= {
        ENDPOINTS["connect"]["id"]
    }
    return webhook_sandbox


def test_after_webhooks_arrived_dj_stripes_checks_find_nothing(received_webhooks, settings):
    rows = {row.id: row.secret for row in WebhookEndpoint.objects.all()}

    assert rows[ENDPOINTS["connect"]["id"]] == settings.STRIPE_CONNECT_WEBHOOK_SECRET
    assert [m.id for m in djstripe_messages()] == []


def test_a_rotated_secret_is_carried_to_the_row_by_the_next_delivery(received_webhooks, settings, client):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_rotated_" + "x" * 20
    from payments.tests.webhook_support import CONNECT_PATH, make_event, post_event

    response = post_event(client, make_event("ping", account="acct_anyone"), path=CONNECT_PATH)

    assert response.status_code == 200
    assert WebhookEndpoint.objects.get(id=ENDPOINTS["connect"]["id"]).secret == "whsec_rotated_" + "x" * 20


def test_rows_made_before_they_carried_the_secret_are_brought_in_step_after_migrate(received_webhooks):
    WebhookEndpoint.objects.update(secret="")  # as every row was before this change
    assert "djstripe.W005" in [m.id for m in djstripe_messages()]  # what ops saw for ever

    changed = webhook_endpoints_sync_secrets()  # post_migrate runs it on every release

    assert changed == WebhookEndpoint.objects.filter(id__in=[e["id"] for e in ENDPOINTS.values()]).count()
    assert [m.id for m in djstripe_messages()] == []


def test_the_sync_is_connected_to_post_migrate():
    from django.db.models.signals import post_migrate

    assert post_migrate.has_listeners()
    assert any(receiver[0][0] == "payments_webhook_secrets" for receiver in post_migrate.receivers)
