"""Reads the command, the admin page and /metrics share."""

from django.db.models import Count, QuerySet

from reconciliation.models import Difference, ReconciliationRun, RunStatus


def latest_finished_run() -> ReconciliationRun | None:
    return ReconciliationRun.objects.filter(status=RunStatus.FINISHED).order_by("-finished_at", "-pk").first()


def open_differences() -> QuerySet[Difference]:
    """The differences still open: those of the newest finished run that no staff action resolved
    (an older run's findings are either found again or gone)."""
    run = latest_finished_run()
    if run is None:
        return Difference.objects.none()
    return Difference.objects.filter(run=run, resolved_at__isnull=True)


def open_difference_counts() -> dict[str, int]:
    rows = open_differences().order_by().values("kind").annotate(n=Count("pk"))
    return {row["kind"]: row["n"] for row in rows}


def run_report(*, run: ReconciliationRun) -> dict:
    """A run and its differences as plain data (`reconcile_stripe --json`, for monitoring)."""
    differences = list(run.differences.order_by("kind", "pk"))
    counts: dict[str, int] = {}
    for difference in differences:
        counts[difference.kind] = counts.get(difference.kind, 0) + 1
    return {
        "run": run.pk,
        "status": run.status,
        "since": run.since.isoformat(),
        "until": run.until.isoformat(),
        "account": run.account or None,
        "pages_read": run.pages_read,
        "objects_read": run.objects_read,
        "skipped_accounts": run.skipped_accounts,
        "error": run.error or None,
        "differences_count": len(differences),
        "counts": counts,
        "differences": [
            {
                "id": d.pk,
                "kind": d.kind,
                "account": d.stripe_account or None,
                "stripe_object": d.stripe_object_id,
                "order_id": d.order_id,
                "message": d.message,
                "ours": d.ours,
                "stripe": d.stripe,
                "fix": d.fix or None,
                "resolved": d.resolved_at is not None,
            }
            for d in differences
        ],
    }
