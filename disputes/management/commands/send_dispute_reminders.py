from django.core.management.base import BaseCommand

from disputes.services import dispute_deadline_reminders_send


class Command(BaseCommand):
    help = (
        "Email sellers whose dispute still waits for their side and is due within 3 days (once per "
        "dispute). Idempotent; run it hourly from cron."
    )

    def handle(self, *args, **options):
        count = dispute_deadline_reminders_send()
        self.stdout.write(f"Sent {count} dispute reminder{'s' if count != 1 else ''}.")
