"""Apply again the Stripe deliveries whose processing failed (their trigger rows keep the error).

Stripe retries failed deliveries by itself for three days; this is for after a fix, or after
Stripe has given up. An event that a later delivery already applied is not applied twice.
"""

from django.core.management.base import BaseCommand
from djstripe.models import WebhookEventTrigger

from payments.services.webhooks import WebhookProcessingFailed, webhook_replay


class Command(BaseCommand):
    help = "Replay the webhook deliveries that failed (or only --trigger N)."

    def add_arguments(self, parser):
        parser.add_argument("--trigger", type=int, action="append", help="replay only this trigger id")

    def handle(self, *args, trigger=None, **options):
        triggers = WebhookEventTrigger.objects.filter(valid=True, processed=False).order_by("id")
        if trigger:
            triggers = triggers.filter(pk__in=trigger)
        replayed = failed = 0
        for row in triggers:
            try:
                webhook_replay(trigger=row)
            except WebhookProcessingFailed:
                failed += 1
                self.stderr.write(f"trigger {row.pk} failed again: {row.exception}")
            else:
                replayed += 1
        self.stdout.write(f"{replayed} replayed, {failed} failed")
        if failed:
            raise SystemExit(1)
