from django.core.management.base import BaseCommand

from payments.services.reservations import reservations_release_expired


class Command(BaseCommand):
    help = (
        "Cancel pending orders whose reservation has lapsed, free their listings and cancel their "
        "PaymentIntents (not ones that already succeeded). Idempotent; run it every minute from cron."
    )

    def handle(self, *args, **options):
        count = reservations_release_expired()
        self.stdout.write(f"Released {count} expired reservation{'s' if count != 1 else ''}.")
