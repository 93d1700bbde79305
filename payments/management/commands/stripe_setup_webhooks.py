"""Register the platform and the Connect webhook endpoint with Stripe; safe to run again.

    python manage.py stripe_setup_webhooks --url https://stubs.example.com

Prints the signing secret of each endpoint it creates (put them in STRIPE_WEBHOOK_SECRET and
STRIPE_CONNECT_WEBHOOK_SECRET); a second run changes nothing and keeps every secret.

The event types each endpoint enables come from one place, `webhook_setup.webhook_event_types`:
on the Connect endpoint (`connect=true`, which gets the events of every connected account,
https://docs.stripe.com/connect/webhooks) every type a handler is registered for plus the
deauthorization; on the platform endpoint the application-fee events. The tests' sandbox
endpoints (payments/tests/webhook_support.endpoints_register, e2e/conftest.py) enable the same
list, so no test passes on an event production does not receive. Nothing the app reads is filled
by another type: dj-stripe's mirror of charges and payouts is not read (the charge id comes from
the PaymentIntent, payouts from GET /v1/payouts); payments/tests/test_stripe_setup_webhooks.py
checks all of this.
"""

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from payments.services.webhook_setup import webhook_event_types, webhooks_setup


class Command(BaseCommand):
    help = "Create or update our two Stripe webhook endpoints (idempotent); prints new signing secrets."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="the site's public address, https://…")

    def handle(self, *args, url, **options):
        try:
            results = webhooks_setup(site_url=url)
        except DomainError as error:
            raise CommandError(error.message) from error
        for result in results:
            self.stdout.write(f"{result.kind:8} {result.action:9} {result.endpoint_id}  {result.url}")
            self.stdout.write(f"         events: {', '.join(webhook_event_types(result.kind))}")
        created = [result for result in results if result.secret]
        if created:
            self.stdout.write("Signing secrets of the new endpoints (shown once; keep them in the env):")
            for result in created:
                self.stdout.write(f"{result.secret_setting}={result.secret}")
        else:
            self.stdout.write("No endpoint created: the signing secrets you have stay valid.")
