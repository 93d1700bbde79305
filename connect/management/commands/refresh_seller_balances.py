from django.core.management.base import BaseCommand

from connect.services.payouts import sellers_balance_refresh


class Command(BaseCommand):
    help = (
        "Re-read sellers' Stripe balances: those recorded negative (lifting the no-new-orders block once "
        "covered), or every connected seller with --all. A safety net beside balance.available events; "
        "run it hourly from cron or beat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true",
                            help="every connected seller, not only negative ones")

    def handle(self, *args, **options):
        counts = sellers_balance_refresh(everyone=options["all"])
        self.stdout.write(
            f"Read {counts['read']} balance(s): {counts['negative']} negative, "
            f"{counts['failed']} not answered."
        )
