"""python manage.py reconcile_stripe [--since 2026-11-01] [--account acct_…] [--json]

Compares Stripe's PaymentIntents, charges, refunds, disputes, application fees and fee refunds
with our orders, payments, refunds and disputes (reconciliation/services/run.py), stores the run
and its differences (Finance's page in admin), and prints them. It never changes an order.

Exit status: 0 when nothing differs, 1 when something does, 2 when Stripe stopped answering
part-way (the run is kept; the same command again resumes where it stopped).
"""

import json
import re
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from reconciliation.selectors import run_report
from reconciliation.services.run import RunInterrupted, reconciliation_run
from reconciliation.services.window import DEFAULT_DAYS, default_since

ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]+")
DIFFERENCES_FOUND = 1
INTERRUPTED = 2


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise CommandError(f"--since must be a date like 2026-11-01, not {text!r}") from None


def _account(text: str) -> str:
    if not ACCOUNT_ID.fullmatch(text):
        raise CommandError(f"--account must be a connected account id like acct_1Abc, not {text!r}")
    return text


class Command(BaseCommand):
    help = "Compare our orders, payments, refunds and disputes with Stripe's; report every difference."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", type=_date, default=None, help=f"YYYY-MM-DD (UTC); default: {DEFAULT_DAYS} days ago"
        )
        parser.add_argument(
            "--account",
            type=_account,
            default=None,
            help="one seller's connected account (acct_…); default: the platform and every seller",
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")

    def handle(self, *args, since=None, account=None, as_json=False, **options):
        if since is not None and since > datetime.now(UTC):
            raise CommandError("--since is in the future")
        try:
            run = reconciliation_run(
                since=since or default_since(), account=account or "", started_by="command"
            )
        except RunInterrupted as interrupted:
            run = interrupted.run
        report = run_report(run=run)
        if as_json:
            self.stdout.write(json.dumps(report, indent=2, sort_keys=True))
        else:
            self._print(report)
        if run.error:
            raise CommandError(run.error, returncode=INTERRUPTED)
        if report["differences_count"]:
            raise CommandError(
                f"{report['differences_count']} differences with Stripe (run #{run.pk}).",
                returncode=DIFFERENCES_FOUND,
            )

    def _print(self, report: dict) -> None:
        self.stdout.write(
            f"Run #{report['run']} ({report['status']}): {report['objects_read']} Stripe objects in "
            f"{report['pages_read']} pages, created {report['since']} to {report['until']}."
        )
        for account in report["skipped_accounts"]:
            self.stdout.write(f"skipped {account}: Stripe no longer lets us read it (it left the platform)")
        for d in report["differences"]:
            order = f"order #{d['order_id']}" if d["order_id"] else "no order"
            fix = f" [fix: {d['fix']}]" if d["fix"] else ""
            self.stdout.write(f"{d['kind']}: {order}, {d['stripe_object']}: {d['message']}{fix}")
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(report["counts"].items()))
        self.stdout.write(
            f"{report['differences_count']} differences" + (f" ({counts})" if counts else "") + "."
        )
