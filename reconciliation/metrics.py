"""Reconciliation's number on /metrics, read from the database at scrape time; registered by
ReconciliationConfig.ready() with core.monitoring.metrics_collector_register."""

from prometheus_client.core import GaugeMetricFamily

from reconciliation.models import DifferenceKind
from reconciliation.selectors import open_difference_counts


def reconciliation_metrics_collect():
    gauge = GaugeMetricFamily(
        "stubcollector_reconciliation_differences_open",
        "Differences between our books and Stripe's found by the newest finished reconciliation "
        "and not resolved by staff, by kind (alert when > 0).",
        labels=["kind"],
    )
    counts = open_difference_counts()
    for kind in DifferenceKind.values:
        gauge.add_metric([kind], counts.get(kind, 0))
    yield gauge
