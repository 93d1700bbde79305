"""Once a day (cron or Celery beat): email each saved search's new matches.

    manage.py send_saved_search_digests

Safe to run more often: a search emailed in the last 20 hours waits for the next run.
"""

from django.core.management.base import BaseCommand

from marketplace.watchlist import saved_search_digests_send


class Command(BaseCommand):
    help = "Email each saved search's new matches (the daily digest)."

    def handle(self, *args, **options):
        totals = saved_search_digests_send()
        self.stdout.write(f"Checked {totals['searches']} saved searches, sent {totals['emails']} emails.")
