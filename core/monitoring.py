"""Prometheus metrics, readiness checks and optional Sentry.

Metrics in process memory (request and Stripe latency, webhook deliveries) are kept with
prometheus-client; with `PROMETHEUS_MULTIPROC_DIR` set (gunicorn.conf.py and `make serve` do)
every gunicorn and Celery process on the host writes them there and `/metrics` adds them up.
Counts that live in the database (orders by status, failed deliveries waiting, reservations
lapsed) are read when `/metrics` is scraped, so every app host reports the same numbers.
"""

import os
import time
from collections.abc import Callable, Iterable

from celery import current_app as app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import Metric

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
DELAY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200)

REQUEST_LATENCY = Histogram(
    "stubcollector_http_request_duration_seconds", "Time to answer an HTTP request, by view.",
    ["view", "method"], buckets=LATENCY_BUCKETS,
)
REQUESTS = Counter(
    "stubcollector_http_requests", "HTTP requests answered, by view and status.",
    ["view", "method", "status"],
)
STRIPE_LATENCY = Histogram(
    "stubcollector_stripe_request_duration_seconds", "Time of one HTTP call to Stripe, by endpoint.",
    ["method", "endpoint"], buckets=LATENCY_BUCKETS,
)
STRIPE_ERRORS = Counter(
    "stubcollector_stripe_errors", "Stripe calls that failed (status >= 400 or no answer), by endpoint.",
    ["method", "endpoint", "status"],
)
WEBHOOK_DELIVERIES = Counter(
    "stubcollector_webhook_deliveries",
    "Webhook deliveries processed by a worker, by event type and outcome "
    "(processed, not_applied, retrying, failed).",
    ["type", "outcome"],
)
WEBHOOK_NOT_APPLIED = Counter(
    "stubcollector_webhook_deliveries_not_applied",
    "Deliveries settled without being applied, by event type and reason (livemode_mismatch, "
    "unknown_account, resource_missing, account_unreadable: payments/services/webhook_guards.py).",
    ["type", "reason"],
)
WEBHOOK_QUEUE_DELAY = Histogram(
    "stubcollector_webhook_queue_delay_seconds",
    "From the delivery being stored to a worker starting on it.", ["type"], buckets=DELAY_BUCKETS,
)
WEBHOOK_PROCESSING = Histogram(
    "stubcollector_webhook_processing_seconds", "Time a worker spent applying one delivery.",
    ["type"], buckets=LATENCY_BUCKETS,
)
RESERVATIONS_RELEASED = Counter(
    "stubcollector_reservations_released", "Lapsed checkouts cancelled by the reservation sweep.",
)


# Each app that keeps numbers in the database registers a callable yielding its metric
# families (from its AppConfig.ready()); core knows no app, so it only calls them in order.
_database_collectors: list[Callable[[], Iterable[Metric]]] = []


def metrics_collector_register(collector: Callable[[], Iterable[Metric]]) -> None:
    """Add `collector()`'s metric families, read at scrape time, to /metrics (registering the
    same one twice changes nothing)."""
    if collector not in _database_collectors:
        _database_collectors.append(collector)


class DatabaseCollector:
    """Numbers read from the database at scrape time (a few COUNT queries per app)."""

    def collect(self):
        for collector in list(_database_collectors):
            yield from collector()


def metrics_render() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    return output + generate_latest(database)


# -- readiness ----------------------------------------------------------------------------------

_migrations_applied = False


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    key = "readyz:probe"
    cache.set(key, "1", timeout=30)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not return what was just stored")


def _check_broker() -> None:
    if not settings.CELERY_BROKER_URL:
        return  # tasks run in-process: nothing to reach

    seconds = settings.READYZ_BROKER_TIMEOUT_SECONDS
    socket_timeouts = {"socket_timeout": seconds, "socket_connect_timeout": seconds}
    with app.connection_for_write(
        url=settings.CELERY_BROKER_URL, connect_timeout=seconds, transport_options=socket_timeouts
    ) as connection:
        connection.ensure_connection(max_retries=0)  # one try: a retry sleeps seconds first
        if connection.transport.driver_type == "redis":
            connection.default_channel.client.ping()


def _check_migrations() -> None:
    global _migrations_applied
    if _migrations_applied:
        return  # a deploy that adds migrations restarts the processes

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise RuntimeError(f"{len(plan)} migration(s) not applied, first {plan[0][0]}")
    _migrations_applied = True


def _check_stripe() -> None:
    if not settings.STRIPE_SECRET_KEY or not settings.STRIPE_API_HOST:
        raise RuntimeError("STRIPE_SECRET_KEY or STRIPE_API_HOST is not set")
    if not settings.STRIPE_WEBHOOK_SECRET or not settings.STRIPE_CONNECT_WEBHOOK_SECRET:
        raise RuntimeError("a webhook signing secret is not set")


READINESS_CHECKS = {
    "database": _check_database,
    "cache": _check_cache,
    "broker": _check_broker,
    "migrations": _check_migrations,
    "stripe": _check_stripe,
}


def readiness_report() -> tuple[bool, dict]:
    """Runs every check; `{"database": {"ok": True, "ms": 1.2}, "cache": {"ok": False, …}}`."""
    report, ready = {}, True
    for name, check in READINESS_CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # the point is to report it, whatever it is
            ready = False
            report[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            report[name] = {"ok": True}
        report[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return ready, report
