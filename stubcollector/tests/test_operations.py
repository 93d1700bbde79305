"""/healthz, /readyz, /metrics and CHECKOUT_ENABLED."""

import json

import kombu
import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings

from accounts.tests.factories import UserFactory
from core import monitoring
from marketplace.tests.factories import ListingFactory
from payments.models import OrderStatus
from payments.tests.factories import shipping_address
from payments.tests.webhook_support import (
    CONNECT_PATH,
    pay,
    post_event,
    sandbox_order,
    sandbox_seller_onboarded,
)

pytestmark = pytest.mark.django_db

# Nothing listens here (a port below 1024 that no test server binds): a stopped Redis.
DEAD_REDIS = "redis://127.0.0.1:9/0"


@pytest.fixture(autouse=True)
def _migrations_checked_afresh(monkeypatch):
    monkeypatch.setattr(monitoring, "_migrations_applied", False)


def test_healthz_says_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_every_check_ok(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "cache", "broker", "migrations", "stripe"}
    assert all(check["ok"] for check in body["checks"].values())


def test_readyz_with_the_database_down_is_503_naming_it(client, monkeypatch):
    def refused(self, *args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", refused)
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["database", "migrations"]  # the migration check reads it too


def test_readyz_names_the_failed_check_to_anyone_but_says_why_only_with_the_metrics_token(
    client, settings
):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    redis_cache = "django.core.cache.backends.redis.RedisCache"
    dead_cache = {"default": {"BACKEND": redis_cache, "LOCATION": DEAD_REDIS}}
    with override_settings(CACHES=dead_cache, CELERY_BROKER_URL=DEAD_REDIS):
        public = client.get("/readyz")
        operator = client.get("/readyz", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")

    assert public.status_code == operator.status_code == 503
    assert public.json()["failed"] == operator.json()["failed"] == ["cache", "broker"]
    assert public.json()["checks"]["cache"] == {"ok": False}
    assert "127.0.0.1" not in public.content.decode() and ":9" not in public.content.decode()
    assert "error" in operator.json()["checks"]["broker"]


def test_readyz_tries_a_dead_broker_once_within_its_own_timeout_instead_of_retrying(client, monkeypatch):
    """kombu's default is to retry a lost broker for ever, sleeping between tries: the probe must
    make one attempt bounded by READYZ_BROKER_TIMEOUT_SECONDS (not a timed assertion: what the
    check asks of kombu is what keeps it short)."""
    tries = []
    ensure_connection = kombu.Connection.ensure_connection

    def recorded(connection, *args, **kwargs):
        tries.append({"max_retries": kwargs.get("max_retries"), "connect_timeout": connection.connect_timeout,
                      **{name: connection.transport_options.get(name)
                         for name in ("socket_timeout", "socket_connect_timeout")}})
        return ensure_connection(connection, *args, **kwargs)

    monkeypatch.setattr(kombu.Connection, "ensure_connection", recorded)
    with override_settings(CELERY_BROKER_URL=DEAD_REDIS, READYZ_BROKER_TIMEOUT_SECONDS=0.5):
        response = client.get("/readyz")

    assert response.json()["failed"] == ["broker"]
    assert tries == [{"max_retries": 0, "connect_timeout": 0.5, "socket_timeout": 0.5,
                      "socket_connect_timeout": 0.5}]


def test_readyz_with_redis_stopped_is_503_naming_the_cache_and_the_broker(client):
    redis_cache = "django.core.cache.backends.redis.RedisCache"
    dead_cache = {"default": {"BACKEND": redis_cache, "LOCATION": DEAD_REDIS}}
    with override_settings(CACHES=dead_cache, CELERY_BROKER_URL=DEAD_REDIS):
        response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["cache", "broker"]
    assert body["checks"]["database"]["ok"]


def test_readyz_with_a_migration_not_applied_is_503_naming_migrations(client, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    not_applied = [("payments.9999_new", False)]
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: not_applied)
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["migrations"]


def test_readyz_with_no_webhook_secret_is_503_naming_stripe(client, settings):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = ""
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["stripe"]


# -- /metrics ------------------------------------------------------------------------------------

def test_metrics_need_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_metrics_without_a_token_are_refused_when_debug_is_off_even_from_loopback(client, settings):
    settings.METRICS_TOKEN = ""
    settings.DEBUG = False
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


PROXY_HEADERS = ["HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED", "HTTP_X_CLIENT_IP",
                 "HTTP_TRUE_CLIENT_IP", "HTTP_CF_CONNECTING_IP", "HTTP_X_ORIGINAL_FORWARDED_FOR",
                 "HTTP_X_CLUSTER_CLIENT_IP", "HTTP_VIA"]


@pytest.mark.parametrize("header", PROXY_HEADERS)
def test_metrics_without_a_token_in_debug_are_refused_to_anything_a_proxy_forwarded(
    client, settings, header
):
    """A proxy on the same host connects from loopback but forwards someone else's request."""
    settings.METRICS_TOKEN = ""
    settings.DEBUG = True
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", **{header: "203.0.113.9"}).status_code == 403


def test_metrics_count_orders_deliveries_stripe_calls_and_requests(client, stripe_sandbox, settings):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    (event,) = stripe_sandbox.events(type="payment_intent.succeeded")
    post_event(client, event, path=CONNECT_PATH)
    client.get("/")
    settings.METRICS_TOKEN = "s3cret-metrics-token"

    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token").content.decode()

    assert 'stubcollector_orders{status="paid"} 1.0' in text
    assert 'stubcollector_orders{status="pending_payment"} 0.0' in text
    assert "stubcollector_webhook_deliveries_failed_waiting 0.0" in text
    assert ('stubcollector_webhook_deliveries_total{outcome="processed",'
            'type="payment_intent.succeeded"}') in text
    assert ('stubcollector_stripe_request_duration_seconds_count{endpoint="/v1/payment_intents",'
            'method="POST"}') in text
    assert 'stubcollector_http_request_duration_seconds_count{method="GET",view="marketplace:browse"}' in text
    assert "stubcollector_reservations_lapsed_waiting 0.0" in text


# -- CHECKOUT_ENABLED=false ----------------------------------------------------------------------

@pytest.fixture
def paused(settings):
    settings.CHECKOUT_ENABLED = False


def test_with_checkout_paused_the_listing_page_stays_up_and_says_so_instead_of_a_buy_button(
    client, paused, stripe_sandbox
):
    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox))

    response = client.get(f"/listings/{listing.pk}/")

    assert response.status_code == 200
    assert "Checkout is paused" in response.content.decode()
    assert f"/checkout/{listing.pk}/" not in response.content.decode()
    assert client.get("/").status_code == 200


def test_with_checkout_paused_the_payment_routes_answer_503_with_a_clear_message(
    client, paused, stripe_sandbox
):
    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox))
    client.force_login(UserFactory())

    page = client.get(f"/checkout/{listing.pk}/", HTTP_ACCEPT="text/html")
    api = client.post("/payments/create-payment-intent/", content_type="application/json",
                      data=json.dumps({"listing_id": listing.pk, **shipping_address()}))

    assert page.status_code == 503 and "Checkout is paused" in page.content.decode()
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "checkout_paused"
    assert "try again later" in api.json()["error"]["message"]
    listing.refresh_from_db()
    assert not listing.reserved_by_id


def test_with_checkout_paused_webhooks_still_land_the_money_in_flight(client, paused, stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    (event,) = stripe_sandbox.events(type="payment_intent.succeeded")

    assert post_event(client, event, path=CONNECT_PATH).status_code == 200

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_with_checkout_on_the_buy_button_is_there(client, stripe_sandbox):
    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox))
    response = client.get(f"/listings/{listing.pk}/")
    assert f"/checkout/{listing.pk}/" in response.content.decode()
    assert "Checkout is paused" not in response.content.decode()
