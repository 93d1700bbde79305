"""The listing page's HTML, and the SQL it ran, for listings in every state and every kind of
visitor, written into a directory: run it in a tree before a change and in one after it, and
compare the two with diff -r (a change meant to make the page cheaper must leave them identical).

    LISTING_HTML_DUMP=/tmp/before .venv/bin/pytest -q -p no:playwright -n 0 -p no:randomly \
        stubcollector/tests/listing_page_html.py

Not collected by a test run (no test_ prefix): it asserts nothing by itself. Listings on sale,
with shipping and offers, with photos (ready, processing, failed), reserved (by another buyer,
by the visitor, lapsed), sold, withdrawn, a draft, of a seller who cannot take payments, with a
sold-price history and with feedback; each for an anonymous visitor, buyers, the holder of the
reservation and the seller, drawn first and then again from the shared copies. CSRF tokens are
masked (they differ on every request).
"""

import datetime
import os
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.models import ListingStatus, StubPhoto
from marketplace.tests.factories import ListingFactory, StubFactory
from payments.tests.sale_support import sale
from ratings.services import feedback_leave

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r"[A-Za-z0-9]{64}")


def stub(n, **fields):
    values = dict(
        event_name=f"Event {n}",
        performer=f"Band {n}",
        venue=f"Hall {n}",
        city="Leeds",
        event_date=datetime.date(1985, 3, 1 + n),
        category="concert",
        description=f"About {n}\nline two",
    )
    values.update(fields)
    return StubFactory(**values)


def test_dump(settings):
    if not os.environ.get("LISTING_HTML_DUMP"):
        pytest.skip("LISTING_HTML_DUMP names the directory to write the pages into")
    out = Path(os.environ["LISTING_HTML_DUMP"])
    out.mkdir(parents=True, exist_ok=True)
    settings.PAGE_CACHE_SECONDS = 300
    now = timezone.now()
    seller = SellerFactory(username="dumpseller", first_name="Sel", last_name="Ler")
    unpaid = UserFactory(username="dumpunpaid", first_name="Un", last_name="Paid", is_seller=True)
    buyer = UserFactory(username="dumpbuyer", first_name="Bu", last_name="Yer")
    other = UserFactory(username="dumpother", first_name="Ot", last_name="Her")
    holder = UserFactory(username="dumpholder", first_name="Ho", last_name="Lder")
    listings = {}
    listings["plain"] = ListingFactory(seller=seller, stub=stub(1), price_cents=4200)
    listings["shipping_offers"] = ListingFactory(
        seller=seller,
        stub=stub(2, performer=""),
        price_cents=5000,
        shipping_cents=350,
        offers_enabled=True,
        offer_minimum_cents=3000,
    )
    photos = stub(3, photo="stubs/a.jpg", thumbnail="stubs/thumbs/a.jpg", photo_state="ready")
    for position, state in enumerate(("ready", "processing", "failed", "ready")):
        StubPhoto.objects.create(
            stub=photos,
            image=f"stubs/p{position}.jpg",
            thumbnail=f"stubs/thumbs/p{position}.jpg",
            state=state,
            position=position,
        )
    listings["photos"] = ListingFactory(seller=seller, stub=photos)
    listings["cover_processing"] = ListingFactory(
        seller=seller, stub=stub(4, photo="stubs/b.jpg", photo_state="processing")
    )
    def reserved(number, by, minutes_left, **fields):
        return ListingFactory(seller=seller, stub=stub(number), status=ListingStatus.RESERVED, reserved_by=by,
                              reserved_until=now + datetime.timedelta(minutes=minutes_left), **fields)

    listings["reserved_other"] = reserved(5, other, 9, reserved_at=now)
    listings["reserved_holder"] = reserved(6, holder, 9, reserved_at=now, offers_enabled=True)
    listings["reserved_lapsed"] = reserved(7, other, -9)
    listings["sold"] = ListingFactory(seller=seller, stub=stub(8), status=ListingStatus.SOLD)
    listings["withdrawn"] = ListingFactory(seller=seller, stub=stub(9), status=ListingStatus.WITHDRAWN)
    listings["draft"] = ListingFactory(seller=seller, stub=stub(10), status=ListingStatus.DRAFT)
    listings["unpaid_seller"] = ListingFactory(seller=unpaid, stub=stub(11), offers_enabled=True)
    listings["sold_prices"] = ListingFactory(
        seller=seller,
        stub=stub(
            12, performer="Prince", event_name="Purple Rain Tour", event_date=datetime.date(1985, 3, 30)
        ),
        price_cents=8800,
    )
    for cents, day in ((4000, 1), (6000, 2), (12500, 3)):
        sale(price_cents=cents, paid_on=datetime.date(2026, 10, day))
    rated = sale(
        price_cents=1000,
        performer="X",
        event_name="Rated",
        seller=seller,
        listing__seller=seller,
        buyer=buyer,
    )
    feedback_leave(order_id=rated.pk, buyer=buyer, rating=4, comment="Good\nseller")
    visitors = {
        "anon": None,
        "buyer": buyer,
        "other": other,
        "holder": holder,
        "owner": seller,
        "unpaid": unpaid,
    }
    for round_ in ("first", "again"):  # again: the shared copies, filled per visitor
        for name, listing in listings.items():
            for who, user in visitors.items():
                client = Client()
                if user is not None:
                    client.force_login(user)
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(f"/listings/{listing.pk}/")
                html = TOKEN.sub("TOKEN", response.content.decode())
                count = len(queries.captured_queries)
                (out / f"{name}-{who}-{round_}.html").write_text(
                    f"{response.status_code} {count} queries\n"
                    + "".join(query["sql"][:90] + "\n" for query in queries.captured_queries)
                    + html
                )
