"""The webhook views refuse anything Stripe did not sign for them, and record what it did once."""

import json
import time

import pytest
from djstripe.models import Event, WebhookEventTrigger

from payments.ip_allowlist import STRIPE_WEBHOOK_IPS, client_ip, is_stripe_webhook_ip
from payments.services.webhooks import InvalidWebhook, webhook_verify
from payments.tests.webhook_support import (
    CONNECT_PATH,
    PLATFORM_PATH,
    make_event,
    post_event,
    sandbox_seller_onboarded,
    sign,
)

pytestmark = pytest.mark.django_db

STRIPE_IP = STRIPE_WEBHOOK_IPS[0]


def nothing_recorded():
    return not Event.objects.exists() and not WebhookEventTrigger.objects.exists()


# -- signature -----------------------------------------------------------------------------------

def test_a_validly_signed_platform_event_is_recorded_once_and_answered_200(client, stripe_sandbox):
    event = make_event("customer.discount.created")  # a type we do not handle

    response = post_event(client, event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "event": event["id"]}
    assert Event.objects.get(id=event["id"]).type == "customer.discount.created"
    trigger = WebhookEventTrigger.objects.get()
    assert trigger.valid and trigger.processed and trigger.event_id == event["id"]
    assert trigger.webhook_endpoint.id == "we_stubcollector_platform"


def test_a_validly_signed_connect_event_is_recorded_with_its_account(client, stripe_sandbox):
    account = {"id": sandbox_seller_onboarded(stripe_sandbox).stripe_account_id}
    # balance.available has no dj-stripe handler: nothing is re-fetched.
    event = make_event("balance.available", {"object": "balance"}, account=account["id"])

    response = post_event(client, event, path=CONNECT_PATH)

    assert response.status_code == 200
    recorded = Event.objects.get(id=event["id"])
    assert recorded.djstripe_owner_account.id == account["id"]
    assert WebhookEventTrigger.objects.get().webhook_endpoint.id == "we_stubcollector_connect"


def test_a_tampered_body_is_refused_and_nothing_is_recorded(client):
    event = make_event("customer.discount.created")
    body = json.dumps(event).encode()
    signature = sign(body, "whsec_sandbox_platform")
    tampered = body.replace(b'"livemode": false', b'"livemode": true')

    response = post_event(client, tampered, signature=signature)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_webhook"
    assert nothing_recorded()


def test_an_event_signed_with_the_wrong_secret_is_refused(client):
    response = post_event(client, make_event("customer.discount.created"), secret="whsec_someone_else")

    assert response.status_code == 400
    assert nothing_recorded()


def test_the_platform_secret_does_not_open_the_connect_endpoint(client, settings):
    event = make_event("account.updated", {"id": "acct_x", "object": "account"}, account="acct_x")

    response = post_event(client, event, path=CONNECT_PATH, secret=settings.STRIPE_WEBHOOK_SECRET)

    assert response.status_code == 400
    assert nothing_recorded()


def test_the_connect_secret_does_not_open_the_platform_endpoint(client, settings):
    response = post_event(
        client, make_event("customer.discount.created"), secret=settings.STRIPE_CONNECT_WEBHOOK_SECRET
    )

    assert response.status_code == 400
    assert nothing_recorded()


def test_a_missing_signature_header_is_refused(client):
    response = post_event(client, make_event("customer.discount.created"), signature="")

    assert response.status_code == 400
    assert "missing" in response.json()["error"]["message"]
    assert nothing_recorded()


@pytest.mark.parametrize("signature", ["garbage", "t=abc,v1=00", "t=123", "v1=deadbeef", "t=,v1="])
def test_a_malformed_signature_header_is_refused(client, signature):
    response = post_event(client, make_event("customer.discount.created"), signature=signature)

    assert response.status_code == 400
    assert nothing_recorded()


def test_a_signature_301_seconds_old_is_refused_as_a_replay(client):
    response = post_event(client, make_event("customer.discount.created"), timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert nothing_recorded()


def test_a_signature_within_the_tolerance_is_accepted(client, stripe_sandbox):
    response = post_event(client, make_event("customer.discount.created"), timestamp=int(time.time()) - 290)

    assert response.status_code == 200


def test_a_signature_dated_an_hour_ahead_is_refused(client):
    response = post_event(client, make_event("customer.discount.created"), timestamp=int(time.time()) + 3600)

    assert response.status_code == 400
    assert "future" in response.json()["error"]["message"]
    assert nothing_recorded()


def test_a_signature_a_minute_ahead_is_accepted_as_clock_skew(client, stripe_sandbox):
    response = post_event(client, make_event("customer.discount.created"), timestamp=int(time.time()) + 60)

    assert response.status_code == 200


def test_a_signed_event_nested_900_levels_deep_is_a_400(client):
    event = make_event("customer.discount.created")
    event["data"]["object"]["metadata"] = {"deep": "[" * 900 + "]" * 900}  # brackets in a string are text
    body = json.dumps(event)[:-1] + ', "x": ' + "[" * 900 + "]" * 900 + "}"

    response = post_event(client, body.encode())

    assert response.status_code == 400
    assert "nested deeper" in response.json()["error"]["message"]
    assert nothing_recorded()


def test_brackets_inside_strings_do_not_count_towards_the_depth(client, stripe_sandbox):
    event = make_event("customer.discount.created")
    event["data"]["object"]["description"] = 'quoted \\" [[[[' * 100

    response = post_event(client, event)

    assert response.status_code == 200


def test_a_signed_body_that_is_not_an_event_is_refused(client):
    for body in (b"not json", b"[1, 2]", json.dumps({"id": "evt_1", "object": "charge"}).encode()):
        response = post_event(client, body)
        assert response.status_code == 400, body
    assert nothing_recorded()


def test_a_connect_event_without_an_account_is_refused(client):
    response = post_event(client, make_event("customer.discount.created"), path=CONNECT_PATH)

    assert response.status_code == 400
    assert nothing_recorded()


@pytest.mark.parametrize("path", [PLATFORM_PATH, CONNECT_PATH])
def test_the_webhook_endpoints_answer_only_post(client, path):
    assert client.get(path).status_code == 405
    assert client.put(path, data=b"{}", content_type="application/json").status_code == 405


def test_the_webhook_needs_no_csrf_token(stripe_sandbox):
    from django.test import Client

    response = post_event(Client(enforce_csrf_checks=True), make_event("customer.discount.created"))

    assert response.status_code == 200


def test_webhook_verify_returns_the_event_for_a_good_signature():
    body = json.dumps(make_event("charge.refunded")).encode()

    event = webhook_verify(payload=body, signature=sign(body, "whsec_test"), secret="whsec_test")

    assert event["type"] == "charge.refunded"


def test_webhook_verify_refuses_a_body_that_is_not_utf8():
    body = b"\xff\xfe"
    with pytest.raises(InvalidWebhook):
        webhook_verify(payload=body, signature="t=1,v1=00", secret="whsec_test")


# -- event types and duplicates ----------------------------------------------------------------

def test_an_event_type_we_do_not_handle_is_recorded_and_answered_2xx(client, stripe_sandbox):
    event = make_event("climate.order.delivered", {"id": "climorder_1", "object": "climate.order"})

    response = post_event(client, event)

    assert response.status_code == 200
    assert Event.objects.filter(id=event["id"]).exists()


def test_the_same_event_delivered_twice_is_recorded_once(client, stripe_sandbox):
    event = make_event("customer.discount.created")

    first = post_event(client, event)
    second = post_event(client, event)

    assert first.status_code == second.status_code == 200
    assert Event.objects.filter(id=event["id"]).count() == 1
    assert WebhookEventTrigger.objects.filter(processed=True).count() == 2  # both deliveries kept


# -- source address ------------------------------------------------------------------------------

def test_with_the_allowlist_on_a_stripe_address_is_accepted(client, settings, stripe_sandbox):
    settings.STRIPE_WEBHOOK_IP_ALLOWLIST = True

    response = post_event(client, make_event("customer.discount.created"), REMOTE_ADDR=STRIPE_IP)

    assert response.status_code == 200
    assert WebhookEventTrigger.objects.get().remote_ip == STRIPE_IP


def test_with_the_allowlist_on_a_forged_forwarded_for_does_not_pass(client, settings):
    settings.STRIPE_WEBHOOK_IP_ALLOWLIST = True
    settings.STRIPE_WEBHOOK_TRUSTED_PROXIES = 0

    response = post_event(
        client, make_event("customer.discount.created"),
        REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=STRIPE_IP,
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "webhook_source_refused"
    assert nothing_recorded()


def test_behind_one_trusted_proxy_the_address_the_proxy_saw_passes(client, settings, stripe_sandbox):
    settings.STRIPE_WEBHOOK_IP_ALLOWLIST = True
    settings.STRIPE_WEBHOOK_TRUSTED_PROXIES = 1

    response = post_event(
        client, make_event("customer.discount.created"),
        REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.100.7, {STRIPE_IP}",
    )

    assert response.status_code == 200
    assert WebhookEventTrigger.objects.get().remote_ip == STRIPE_IP


def test_behind_one_trusted_proxy_a_stripe_address_forged_on_the_left_does_not_pass(client, settings):
    settings.STRIPE_WEBHOOK_IP_ALLOWLIST = True
    settings.STRIPE_WEBHOOK_TRUSTED_PROXIES = 1

    response = post_event(
        client, make_event("customer.discount.created"),
        REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{STRIPE_IP}, 198.51.100.7",
    )

    assert response.status_code == 403
    assert nothing_recorded()


def test_with_the_allowlist_off_any_address_may_deliver(client, settings, stripe_sandbox):
    settings.STRIPE_WEBHOOK_IP_ALLOWLIST = False

    response = post_event(client, make_event("customer.discount.created"), REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 200


def test_the_allowlist_is_checked_before_the_signature(client, settings):
    settings.STRIPE_WEBHOOK_IP_ALLOWLIST = True

    response = post_event(client, b"junk", signature="junk", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "3.18.12.63", "1.1.1.1", "3.18.12.63"),
        (1, "10.0.0.1", "1.1.1.1, 2.2.2.2", "2.2.2.2"),
        (2, "10.0.0.1", "1.1.1.1, 2.2.2.2, 10.0.0.5", "2.2.2.2"),
        (2, "10.0.0.1", "2.2.2.2", None),  # shorter than the proxy chain: do not guess
        (1, "10.0.0.1", "3.18.12.63:4431", "3.18.12.63"),
        (0, "::ffff:3.18.12.63", "", "3.18.12.63"),
        (1, "10.0.0.1", "not-an-ip", None),
    ],
)
def test_client_ip_trusts_only_as_many_forwarded_entries_as_there_are_proxies(
    rf, proxies, remote, forwarded, expected
):
    request = rf.post("/payments/webhook/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request, trusted_proxies=proxies) == expected


def test_the_allowlist_holds_stripes_published_webhook_addresses():
    assert len(STRIPE_WEBHOOK_IPS) == 12
    assert all(is_stripe_webhook_ip(ip) for ip in STRIPE_WEBHOOK_IPS)
    assert not is_stripe_webhook_ip("3.18.12.64")
    assert not is_stripe_webhook_ip(None)
    assert not is_stripe_webhook_ip("garbage")


def test_a_flood_of_unverifiable_requests_from_one_address_is_rate_limited(client):
    from payments.views import webhooks as webhook_views

    assert webhook_views.WEBHOOK_RATE_PER_IP == "100/m"
    statuses = [post_event(client, b"junk", signature="", REMOTE_ADDR="203.0.113.50").status_code
                for _ in range(101)]
    assert statuses[:100] == [400] * 100
    assert statuses[100] == 429


def test_signed_deliveries_are_never_refused_for_rate_even_after_a_flood_of_junk(
        client, stripe_sandbox, monkeypatch):
    """Stripe delivers from a few addresses: a busy hour of valid events must not be throttled,
    even from an address that also sent junk."""
    from payments.views import webhooks as webhook_views

    monkeypatch.setattr(webhook_views, "WEBHOOK_RATE_PER_IP", "3/m")
    junk = [post_event(client, b"junk", signature="", REMOTE_ADDR="203.0.113.51").status_code
            for _ in range(4)]
    assert junk == [400, 400, 400, 429]

    valid = [post_event(client, make_event("customer.discount.created"),
                        REMOTE_ADDR="203.0.113.51").status_code for _ in range(10)]

    assert valid == [200] * 10
