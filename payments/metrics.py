"""Payments' numbers on /metrics, read from the database at scrape time (orders by status,
failed and unprocessed webhook deliveries, lapsed reservations); PaymentsConfig.ready()
registers them with core.monitoring.metrics_collector_register."""

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from payments.models import Order, OrderStatus
from payments.services.redelivery import webhook_redelivery_due
from payments.services.webhooks import webhook_deliveries_counts


def payments_metrics_collect():

    orders = GaugeMetricFamily("stubcollector_orders", "Orders by status.", labels=["status"])
    rows = Order.objects.order_by().values("status").annotate(n=Count("pk"))
    counts = {row["status"]: row["n"] for row in rows}
    for status in OrderStatus.values:
        orders.add_metric([status], counts.get(status, 0))
    yield orders

    deliveries = webhook_deliveries_counts()
    yield GaugeMetricFamily(
        "stubcollector_webhook_deliveries_failed_waiting",
        "Deliveries that failed their last try and wait for a replay (alert when > 0).",
        value=deliveries["failed"],
    )
    yield GaugeMetricFamily(
        "stubcollector_webhook_deliveries_unprocessed",
        "Deliveries stored but not applied yet (queued or retrying).",
        value=deliveries["unprocessed"],
    )
    yield GaugeMetricFamily(
        "stubcollector_webhook_deliveries_overdue",
        "Deliveries stored but not applied whose task should have run WEBHOOK_REDELIVER_AFTER_SECONDS "
        "ago (lost tasks beat re-applies each minute; stays above 0 when beat is down or behind).",
        value=webhook_redelivery_due().count(),
    )
    lapsed = Order.objects.filter(
        status=OrderStatus.PENDING_PAYMENT, reserved_until__lte=timezone.now()
    ).count()
    yield GaugeMetricFamily(
        "stubcollector_reservations_lapsed_waiting",
        "Pending orders whose hold has lapsed but the sweep has not cancelled yet "
        "(stays above 0 for minutes when beat is down).",
        value=lapsed,
    )
