"""Demo data: sellers with bios, 60+ listings with drawn ticket pictures, a buyer and a staff user.

    python manage.py seed_demo                      # once; running it again adds nothing
    python manage.py seed_demo --listings 100000    # plus N bulk listings for benchmarks
    python manage.py seed_demo --force              # add another demo set of listings

Passwords for `buyer`, `staff` and the demo sellers come from --buyer-password / --staff-password /
--seller-password, or DEMO_BUYER_PASSWORD / DEMO_STAFF_PASSWORD / DEMO_SELLER_PASSWORD, or are
generated; each run sets them and prints them (so a lost password is one re-run away).

Demo sellers are onboarded through the Stripe sandbox (demo.sellers) so their
listings can be paid for; one seller ("halfway") is left mid-onboarding on purpose. Start the
sandbox first (make run / python -m stripe_sandbox); without it the sellers are created but cannot
take payments, and the command says so. The demo orders are real sandbox payments made as a buyer
makes them (demo.orders), so staff can refund them from admin; without a sandbox there
are none. --skip-stripe leaves Stripe out entirely (no onboarding, no orders).
"""

import os
import random
import secrets
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from demo import catalogue
from demo.conversations import create_demo_conversations
from demo.offers import create_demo_offers
from demo.problems import create_demo_problem_reports
from demo.sellers import connect_onboard_demo_sellers
from demo.sold_prices import create_demo_sales_history
from marketplace.models import Category, Listing

DEMO_LISTING_COUNT = 63  # nine per category
HALFWAY_LISTING_COUNT = 3

DEMO_SELLERS = [
    {
        "username": "maggie_okafor", "first_name": "Margaret", "last_name": "Okafor", "country": "US",
        "bio": "Thirty years of concert stubs from the Spectrum and the Garden. Everything ships in a "
               "rigid mailer with a sleeve.",
    },
    {
        "username": "danny_reyes", "first_name": "Daniel", "last_name": "Reyes", "country": "US",
        "bio": "Sports nut. Fenway season-ticket holder since '98; I sell the doubles from my binders.",
    },
    {
        "username": "priya_natarajan", "first_name": "Priya", "last_name": "Natarajan", "country": "US",
        "bio": "Broadway and West End programmes and stubs. Ask me about opening nights.",
    },
    {
        "username": "tom_lindqvist", "first_name": "Tom", "last_name": "Lindqvist", "country": "US",
        "bio": "Festival wristbands and stubs, film premieres, and the odd oddity. "
               "Combined shipping on request.",
    },
]
# Each seller lists what their bio says they collect (others round-robin).
SELLER_FOR_CATEGORY = {
    Category.CONCERT: 0, Category.SPORTS: 1, Category.THEATRE: 2,
    Category.FESTIVAL: 3, Category.FILM: 3, Category.OTHER: 3,
}
DEMO_BUYERS = [
    {"username": "rosa_alvarez", "first_name": "Rosa", "last_name": "Alvarez"},
    {"username": "jamal_wright", "first_name": "Jamal", "last_name": "Wright"},
]
HALFWAY_SELLER = {
    "username": "chloe_martin", "first_name": "Chloé", "last_name": "Martin", "country": "US",
    "bio": "Comedy club regular clearing out a shoebox of stubs. Payments coming soon!",
}


class Command(BaseCommand):
    help = "Create demo sellers, listings with pictures, a buyer and a staff user (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--listings", type=int, default=0, metavar="N",
                            help="also bulk-create N listings (shared pictures) for benchmarks")
        parser.add_argument("--force", action="store_true",
                            help="add another set of demo listings even if one exists")
        parser.add_argument("--skip-stripe", action="store_true",
                            help="do not onboard the demo sellers through the Stripe sandbox")
        parser.add_argument("--buyer-password", default=os.environ.get("DEMO_BUYER_PASSWORD"))
        parser.add_argument("--staff-password", default=os.environ.get("DEMO_STAFF_PASSWORD"))
        parser.add_argument("--seller-password", default=os.environ.get("DEMO_SELLER_PASSWORD"))
        parser.add_argument("--seed", type=int, default=1985, help="random seed (default 1985)")

    def handle(self, *args, **options):
        if options["listings"] < 0:
            raise CommandError("--listings must be 0 or more.")
        rng = random.Random(options["seed"])
        passwords = {
            "buyer": options["buyer_password"] or secrets.token_urlsafe(9),
            "staff": options["staff_password"] or secrets.token_urlsafe(9),
            "sellers": options["seller_password"] or secrets.token_urlsafe(9),
        }

        sellers, halfway = self._sellers(passwords["sellers"])
        buyer = self._user("buyer", passwords["buyer"], first_name="Ann", last_name="Buyer")
        buyers = [buyer, *(
            self._user(spec["username"], passwords["buyer"], first_name=spec["first_name"],
                       last_name=spec["last_name"])
            for spec in DEMO_BUYERS
        )]
        self._user("staff", passwords["staff"], first_name="Sam", last_name="Staff",
                   is_staff=True, is_superuser=True)

        if options["skip_stripe"]:
            self.stdout.write("Stripe onboarding skipped (--skip-stripe).")
        else:
            self._onboard(sellers, halfway)

        self._demo_listings(sellers, halfway, buyers, rng, force=options["force"],
                            with_orders=not options["skip_stripe"])
        if options["listings"]:
            self._bulk_listings(sellers + [halfway], options["listings"], rng)

        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in with:"))
        self.stdout.write(f"  buyer / {passwords['buyer']}")
        self.stdout.write(f"  staff / {passwords['staff']}   (admin: /admin/)")
        for seller in [*sellers, halfway]:
            self.stdout.write(f"  {seller.username} / {passwords['sellers']}   (seller)")

    def _user(self, username, password, **fields):
        user, _ = get_user_model().objects.update_or_create(
            username=username, defaults={"email": f"{username}@example.com", **fields}
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        return user

    def _sellers(self, password):
        def make(spec):
            return self._user(
                spec["username"], password, first_name=spec["first_name"], last_name=spec["last_name"],
                is_seller=True, seller_bio=spec["bio"], seller_country=spec["country"],
            )

        return [make(spec) for spec in DEMO_SELLERS], make(HALFWAY_SELLER)

    def _onboard(self, sellers, halfway):
        self.stdout.write("Onboarding demo sellers through the Stripe sandbox…")
        connect_onboard_demo_sellers(
            sellers=sellers, halfway_seller=halfway, log=lambda line: self.stdout.write(f"  {line}")
        )
        for seller in sellers:
            seller.refresh_from_db()
        unpaid = [seller.username for seller in sellers if not seller.can_accept_payments]
        if unpaid:
            self.stdout.write(self.style.WARNING(
                f"  {', '.join(unpaid)} cannot take payments yet, so their listings will not show on the "
                "browse page. Start the Stripe sandbox and run seed_demo again."
            ))

    def _demo_listings(self, sellers, halfway, buyers, rng, *, force, with_orders):
        existing = Listing.objects.filter(seller__in=[*sellers, halfway]).count()
        if existing and not force:
            self.stdout.write(
                f"Demo listings already there ({existing}); none added (use --force to add more)."
            )
            return
        categories = [category for category in Category.values for _ in range(DEMO_LISTING_COUNT // 7)]
        rng.shuffle(categories)
        now = timezone.now()
        started = time.monotonic()
        seen = dict.fromkeys(Category.values, 0)  # each category walks its curated events in turn
        created = []
        with transaction.atomic():
            for index, category in enumerate(categories):
                seller = sellers[SELLER_FOR_CATEGORY.get(category, index) % len(sellers)]
                created.append(catalogue.create_demo_listing(
                    seller=seller, stub=catalogue.demo_stub(rng, category, index=seen[category]),
                    created_at=now - timedelta(hours=index * 7 + rng.randint(0, 6)),
                    shipping_cents=rng.choice(catalogue.SHIPPING_CHOICES),
                ))
                seen[category] += 1
            for index in range(HALFWAY_LISTING_COUNT):
                comedy = catalogue.demo_stub(rng, Category.COMEDY, index=seen[Category.COMEDY] + index)
                catalogue.create_demo_listing(
                    seller=halfway, stub=comedy,
                    created_at=now - timedelta(days=index + 1),
                )
        # The oldest few have sold: real sandbox payments (refundable from admin), then shipped,
        # delivered and rated. After the listings' commit: Stripe is never called inside it.
        orders, history = [], []
        if with_orders:
            orders = catalogue.create_demo_orders(
                listings=list(reversed(created)), buyers=buyers, rng=rng,
                log=lambda line: self.stdout.write(self.style.WARNING(f"  {line}")),
            )
            # Earlier sales of the most listed events, so their pages show what such stubs sold
            # for (demo.sold_prices).
            history = create_demo_sales_history(
                listings=created, buyers=buyers, rng=rng,
                log=lambda line: self.stdout.write(self.style.WARNING(f"  {line}")),
            )
        # Questions on listings and messages on an order (demo.conversations).
        conversations = create_demo_conversations(listings=created, buyers=buyers, orders=orders)
        # An open and a resolved problem report on two shipped orders (demo.problems).
        reports = create_demo_problem_reports(
            orders=orders, log=lambda line: self.stdout.write(self.style.WARNING(f"  {line}")),
        )
        # An offer in each state on the newest listings (demo.offers).
        offers = create_demo_offers(
            listings=created, buyers=buyers,
            log=lambda line: self.stdout.write(self.style.WARNING(f"  {line}")),
        )
        self.stdout.write(
            f"Created {len(categories) + HALFWAY_LISTING_COUNT} demo listings with pictures, "
            f"{len(orders)} orders paid in the Stripe sandbox (shipped, delivered, rated), "
            f"{len(history)} earlier sales of the most listed events "
            f"{conversations} conversations, {len(reports)} problem reports and {len(offers)} offers "
            f"in {time.monotonic() - started:.1f} s."
        )

    def _bulk_listings(self, sellers, count, rng):
        payable = [seller for seller in sellers if seller.can_accept_payments] or sellers
        started = time.monotonic()
        images = catalogue.shared_category_images(rng)

        def progress(done):
            if done % 20_000 == 0 or done == count:
                self.stdout.write(f"  {done:,} / {count:,} ({time.monotonic() - started:.1f} s)")

        catalogue.bulk_create_listings(
            sellers=payable, count=count, rng=rng, images=images, progress=progress
        )
        catalogue.refresh_planner_statistics()
        self.stdout.write(f"Bulk-created {count:,} listings in {time.monotonic() - started:.1f} s.")
