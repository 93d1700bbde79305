"""python manage.py replay_stripe_events --since 2026-11-01 [--dry-run]

Lists the events Stripe holds since a date, from the platform and each seller's connected
account, and applies once those of a type we handle that never reached us (see
payments/services/replay.py). A second run applies nothing. A seller's account Stripe no longer
lets us read (it left the platform) is skipped, named, and its seller marked disconnected.
"""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from payments.services.replay import stripe_events_replay


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise CommandError(f"--since must be a date like 2026-11-01, not {text!r}") from None


class Command(BaseCommand):
    help = "Apply the Stripe events since a date that never reached our webhooks (once)."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, type=_date,
                            help="YYYY-MM-DD (UTC); Stripe keeps 30 days of events")
        parser.add_argument("--dry-run", action="store_true",
                            help="list what would be applied, apply nothing")

    def handle(self, *args, since, dry_run=False, **options):
        report = stripe_events_replay(since=since, dry_run=dry_run)
        verb = "would apply" if dry_run else "applied"
        for event_id in report.applied:
            self.stdout.write(f"{verb} {event_id}")
        for account in report.unreadable:
            self.stdout.write(f"skipped {account}: Stripe no longer lets us read it (it left the platform); "
                              f"its seller {'would be' if dry_run else 'is'} marked disconnected")
        self.stdout.write(
            f"{report.listed} events listed: {len(report.applied)} {verb}, {report.already} already applied, "
            f"{report.not_handled} of types we do not handle, {len(report.failed)} failed, "
            f"{len(report.unreadable)} accounts unreadable"
        )
        if report.failed:
            raise CommandError("Some events failed; their deliveries are in admin (Webhook deliveries).")
