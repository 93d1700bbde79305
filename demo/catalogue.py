"""Demo and benchmark data: realistic stubs, ticket pictures drawn with Pillow, fast bulk inserts.

Used by `manage.py seed_demo` and tests (`make bench` seeds by COPY: bench/seed.py). Runtime
code only (no Faker): the names and places below are written out so the demo reads like a real
collection.
"""

import datetime
import io
import random
import unicodedata
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from PIL import Image, ImageDraw, ImageFont

from core.errors import DomainError
from demo.orders import demo_order_pay
from marketplace.images import THUMBNAIL_SIZE
from marketplace.models import Category, Condition, Listing, ListingStatus, Stub
from payments.models import OrderStatus
from payments.services.orders import order_transition
from ratings.services import feedback_leave, feedback_reply


@dataclass(frozen=True)
class DemoEvent:
    """One real-looking night: what, who, where, when, and what its stub fetches (dollars)."""

    category: str
    event_name: str
    performer: str
    venue: str
    city: str
    date: datetime.date
    price_range: tuple[int, int]


def _event(category, event_name, performer, venue, city, ymd, low, high):
    return DemoEvent(category, event_name, performer, venue, city, datetime.date(*ymd), (low, high))


C, S, T, K, F, M, X = (Category.CONCERT, Category.SPORTS, Category.THEATRE, Category.COMEDY,
                       Category.FESTIVAL, Category.FILM, Category.OTHER)

# A curated table: each event with the performer, venue, city and year it really had, and a
# price that fits how sought-after its stub is. The demo and the benchmarks draw from it.
DEMO_EVENTS: tuple[DemoEvent, ...] = (
    _event(C, "Born in the U.S.A. Tour", "Bruce Springsteen", "Giants Stadium", "East Rutherford",
           (1985, 8, 22), 60, 180),
    _event(C, "The Joshua Tree Tour", "U2", "Sun Devil Stadium", "Tempe", (1987, 12, 19), 70, 220),
    _event(C, "Purple Rain Tour", "Prince", "Joe Louis Arena", "Detroit", (1984, 11, 4), 90, 320),
    _event(C, "Rumours Tour", "Fleetwood Mac", "The Forum", "Inglewood", (1977, 8, 29), 45, 150),
    _event(C, "A Night at the Opera Tour", "Queen", "Hammersmith Odeon", "London", (1975, 12, 24), 250, 900),
    _event(C, "Bad World Tour", "Michael Jackson", "Wembley Stadium", "London", (1988, 7, 16), 80, 260),
    _event(C, "Blond Ambition World Tour", "Madonna", "Los Angeles Memorial Sports Arena", "Los Angeles",
           (1990, 5, 11), 60, 200),
    _event(C, "The Division Bell Tour", "Pink Floyd", "Earls Court", "London", (1994, 10, 20), 50, 160),
    _event(C, "Nevermind Tour", "Nirvana", "Paramount Theatre", "Seattle", (1991, 10, 31), 300, 1200),
    _event(C, "The Eras Tour", "Taylor Swift", "SoFi Stadium", "Inglewood", (2023, 8, 9), 25, 90),
    _event(C, "Renaissance World Tour", "Beyoncé", "MetLife Stadium", "East Rutherford",
           (2023, 7, 29), 20, 70),
    _event(S, "World Series Game 6", "Red Sox vs Mets", "Shea Stadium", "New York", (1986, 10, 25), 150, 600),
    _event(S, "Super Bowl XLII", "Giants vs Patriots", "University of Phoenix Stadium", "Glendale",
           (2008, 2, 3), 90, 350),
    _event(S, "NBA Finals Game 6", "Bulls vs Jazz", "Delta Center", "Salt Lake City",
           (1998, 6, 14), 200, 900),
    _event(S, "Wimbledon Gentlemen's Final", "Federer vs Nadal", "All England Club", "London", (2008, 7, 6),
           120, 450),
    _event(S, "FIFA World Cup Final", "Argentina vs France", "Lusail Stadium", "Lusail",
           (2022, 12, 18), 100, 400),
    _event(S, "Stanley Cup Final Game 7", "Rangers vs Canucks", "Madison Square Garden", "New York",
           (1994, 6, 14), 90, 300),
    _event(S, "The Masters, Final Round", "Tiger Woods' first green jacket", "Augusta National Golf Club",
           "Augusta", (1997, 4, 13), 150, 500),
    _event(S, "Winter Olympics Ice Hockey", "USA vs USSR", "Olympic Center", "Lake Placid", (1980, 2, 22),
           400, 1500),
    _event(S, "Ripken's 2,131st Game", "Orioles vs Angels", "Oriole Park at Camden Yards", "Baltimore",
           (1995, 9, 6), 60, 220),
    _event(S, "The Rumble in the Jungle", "Ali vs Foreman", "Stade du 20 Mai", "Kinshasa", (1974, 10, 30),
           500, 2200),
    _event(T, "The Phantom of the Opera", "Original Broadway Cast", "Majestic Theatre", "New York",
           (1988, 1, 26), 40, 140),
    _event(T, "Hamilton", "Original Broadway Cast", "Richard Rodgers Theatre", "New York",
           (2015, 8, 6), 60, 240),
    _event(T, "Cats", "Original London Cast", "New London Theatre", "London", (1981, 5, 11), 35, 110),
    _event(T, "Les Misérables", "Royal Shakespeare Company", "Barbican Theatre", "London",
           (1985, 10, 8), 45, 150),
    _event(T, "Rent", "Original Broadway Cast", "Nederlander Theatre", "New York", (1996, 4, 29), 30, 95),
    _event(T, "A Chorus Line", "Original Broadway Cast", "Shubert Theatre", "New York",
           (1975, 7, 25), 40, 130),
    _event(T, "Death of a Salesman", "Dustin Hoffman", "Broadhurst Theatre", "New York",
           (1984, 3, 29), 25, 80),
    _event(T, "The Lion King", "Original Broadway Cast", "New Amsterdam Theatre", "New York", (1997, 11, 13),
           30, 100),
    _event(T, "Wicked", "Original Broadway Cast", "Gershwin Theatre", "New York", (2003, 10, 30), 25, 90),
    _event(T, "Hamlet", "Benedict Cumberbatch", "Barbican Theatre", "London", (2015, 8, 25), 20, 70),
    _event(K, "Delirious", "Eddie Murphy", "Constitution Hall", "Washington", (1983, 8, 17), 80, 260),
    _event(K, "Killin' Them Softly", "Dave Chappelle", "Lincoln Theatre", "Washington",
           (2000, 7, 8), 40, 140),
    _event(K, "I'm Telling You for the Last Time", "Jerry Seinfeld", "Broadhurst Theatre", "New York",
           (1998, 8, 9), 30, 110),
    _event(K, "Bigger & Blacker", "Chris Rock", "Apollo Theater", "New York", (1999, 5, 15), 35, 120),
    _event(K, "Live on the Sunset Strip", "Richard Pryor", "Hollywood Palladium", "Los Angeles",
           (1981, 12, 10),
           90, 300),
    _event(K, "Nanette", "Hannah Gadsby", "Sydney Opera House", "Sydney", (2017, 3, 30), 15, 55),
    _event(K, "Comedy Is Not Pretty", "Steve Martin", "Universal Amphitheatre", "Los Angeles", (1978, 9, 2),
           30, 100),
    _event(F, "Woodstock Music & Art Fair", "Various Artists", "Max Yasgur's Farm", "Bethel", (1969, 8, 15),
           300, 1400),
    _event(F, "Live Aid", "Various Artists", "John F. Kennedy Stadium", "Philadelphia",
           (1985, 7, 13), 120, 450),
    _event(F, "Live Aid", "Various Artists", "Wembley Stadium", "London", (1985, 7, 13), 130, 480),
    _event(F, "Monterey Pop Festival", "Various Artists", "Monterey County Fairgrounds", "Monterey",
           (1967, 6, 16), 250, 1100),
    _event(F, "Lollapalooza", "Various Artists", "Grant Park", "Chicago", (2005, 7, 23), 20, 60),
    _event(F, "Coachella Valley Music and Arts Festival", "Various Artists", "Empire Polo Club", "Indio",
           (1999, 10, 9), 90, 320),
    _event(F, "Glastonbury Festival", "Various Artists", "Worthy Farm", "Pilton", (1997, 6, 27), 40, 140),
    _event(F, "Bonnaroo", "Various Artists", "Great Stage Park", "Manchester, Tennessee",
           (2002, 6, 21), 30, 100),
    _event(F, "New Orleans Jazz & Heritage Festival", "Various Artists", "Fair Grounds Race Course",
           "New Orleans", (2006, 4, 28), 25, 80),
    _event(F, "Austin City Limits", "Various Artists", "Zilker Park", "Austin", (2002, 9, 21), 25, 80),
    _event(M, "Star Wars: Opening Week", "20th Century Fox", "Grauman's Chinese Theatre", "Los Angeles",
           (1977, 5, 25), 200, 900),
    _event(M, "Jurassic Park Premiere", "Universal Pictures", "Uptown Theater", "Washington", (1993, 6, 9),
           60, 200),
    _event(M, "Titanic Premiere", "Paramount Pictures", "Mann's Chinese Theatre", "Los Angeles",
           (1997, 12, 14),
           70, 240),
    _event(M, "Back to the Future: Opening Day", "Universal Pictures", "Cinerama Dome", "Los Angeles",
           (1985, 7, 3), 40, 140),
    _event(M, "The Dark Knight IMAX Midnight Show", "Warner Bros.", "AMC Lincoln Square", "New York",
           (2008, 7, 18), 15, 50),
    _event(M, "Pulp Fiction: Opening Night", "Miramax", "Ziegfeld Theatre", "New York",
           (1994, 10, 14), 35, 110),
    _event(M, "E.T. the Extra-Terrestrial: Opening Day", "Universal Pictures", "Cinerama Dome", "Los Angeles",
           (1982, 6, 11), 45, 150),
    _event(M, "Avengers: Endgame Opening Night", "Marvel Studios", "El Capitan Theatre", "Los Angeles",
           (2019, 4, 26), 12, 40),
    _event(X, "Apollo 11 Launch Viewing", "NASA", "Kennedy Space Center", "Cape Canaveral", (1969, 7, 16),
           400, 2000),
    _event(X, "New York World's Fair", "Opening Day", "Flushing Meadows", "New York", (1964, 4, 22), 20, 70),
    _event(X, "Papal Mass", "Pope John Paul II", "Yankee Stadium", "New York", (1979, 10, 2), 40, 150),
    _event(X, "STS-1 Launch Viewing", "Space Shuttle Columbia", "Kennedy Space Center", "Cape Canaveral",
           (1981, 4, 12), 150, 600),
    _event(X, "Expo 67", "Opening Day", "Île Sainte-Hélène", "Montreal", (1967, 4, 28), 25, 90),
    _event(X, "Ringling Bros. and Barnum & Bailey Circus", "The Greatest Show on Earth",
           "Madison Square Garden",
           "New York", (1985, 4, 5), 10, 35),
    _event(X, "Monster Jam World Finals", "Feld Motorsports", "Sam Boyd Stadium", "Las Vegas", (2010, 3, 27),
           8, 25),
)
EVENTS = {
    category: [event for event in DEMO_EVENTS if event.category == category] for category in Category.values
}
SHIPPING_CHOICES = (0, 0, 350, 450, 500)  # free, or postage in a rigid mailer

DESCRIPTIONS = [
    "Kept in a sleeve since the night of the show.",
    "Torn stub, clean edges, no creases.",
    "A little fading on the left, the print is sharp.",
    "From my father's collection; he was in row F.",
    "Full unused ticket, never torn.",
    "Small pin hole at the top from a corkboard.",
    "Stored flat in a photo album for decades.",
    "Slight crease through the middle, colours bright.",
]

# Background, card, accent and ink colours per category.
PALETTES = {
    Category.CONCERT: ("#2b1d3a", "#f6e7c8", "#c2410c", "#2b1d3a"),
    Category.SPORTS: ("#0f2a1d", "#eef3e6", "#15803d", "#12301f"),
    Category.THEATRE: ("#3b0d13", "#f8ecd8", "#9f1239", "#3b0d13"),
    Category.COMEDY: ("#3a2a05", "#fff7d6", "#ca8a04", "#3a2a05"),
    Category.FESTIVAL: ("#0b2a3b", "#e6f4f1", "#0e7490", "#0b2a3b"),
    Category.FILM: ("#111827", "#f3f0e8", "#b45309", "#111827"),
    Category.OTHER: ("#1e293b", "#eef2ff", "#4338ca", "#1e293b"),
}

PHOTO_SIZE = (1200, 800)  # 3:2, the shape of the browse cards


@dataclass(frozen=True)
class DemoStub:
    event_name: str
    performer: str
    venue: str
    city: str
    event_date: datetime.date
    category: str
    condition: str
    description: str
    price_cents: int
    seat: str

    def stub_fields(self) -> dict:
        return {
            "event_name": self.event_name, "performer": self.performer, "venue": self.venue,
            "city": self.city, "event_date": self.event_date, "category": self.category,
            "condition": self.condition, "description": self.description,
        }


def demo_stub(rng: random.Random, category: str | None = None, index: int | None = None) -> DemoStub:
    """A stub from the curated table (the `index`-th of its category, or a random one), with a
    condition, a price within what that event's stubs fetch, and a seat."""
    category = category or rng.choice(list(EVENTS))
    events = EVENTS[category]
    event = events[index % len(events)] if index is not None else rng.choice(events)
    low, high = event.price_range
    condition = rng.choice(list(Condition.values))
    # Better condition, higher in the range; whole dollars or .50/.99 as people price.
    worth = {"mint": 0.95, "near_mint": 0.8, "excellent": 0.65, "good": 0.45, "fair": 0.3, "poor": 0.15}
    worth = worth[condition]
    dollars = max(low, min(high, round(low + (high - low) * worth * rng.uniform(0.85, 1.15))))
    price_cents = dollars * 100 + rng.choice([0, 0, 50, 99])
    seat = f"SEC {rng.randint(100, 340)}  ROW {rng.choice('ABCDEFGHJKLMN')}  SEAT {rng.randint(1, 30)}"
    if category == Category.FESTIVAL:
        seat = "GENERAL ADMISSION"
    return DemoStub(
        event_name=event.event_name, performer=event.performer, venue=event.venue, city=event.city,
        event_date=event.date, category=category, condition=condition,
        description=rng.choice(DESCRIPTIONS), price_cents=price_cents, seat=seat,
    )


def _font(size: int):
    return ImageFont.load_default(size=size)


def _drawable(text: str) -> str:
    """Pillow's bundled font has ASCII glyphs only: Beyoncé is drawn as Beyonce."""
    text = text.replace("—", "-").replace("’", "'")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _fit(draw, text: str, max_width: int, size: int):
    """The largest font (from `size` down) that keeps `text` within max_width, and the text."""
    text = _drawable(text)
    while size > 14:
        font = _font(size)
        if draw.textlength(text, font=font) <= max_width:
            return font, text
        size -= 2
    font = _font(14)
    while text and draw.textlength(text + "…", font=font) > max_width:
        text = text[:-1]
    return font, text + "…"


def render_ticket(stub: DemoStub) -> Image.Image:
    """A ticket-like card: notched, perforated before the tear-off stub, coloured per category."""
    background, paper, accent, ink = PALETTES[stub.category]
    width, height = PHOTO_SIZE
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    left, right = 60, width - 60
    top = (height - 460) // 2
    bottom = top + 460
    tear = right - 260  # where the stub tears off
    draw.rounded_rectangle((left, top, right, bottom), radius=28, fill=paper)
    notch = 30
    middle = (top + bottom) // 2
    for x in (left, right):  # half-moon notches on both edges
        draw.ellipse((x - notch, middle - notch, x + notch, middle + notch), fill=background)
    for x in (tear,):  # notches at the tear line, top and bottom
        draw.ellipse((x - 18, top - 18, x + 18, top + 18), fill=background)
        draw.ellipse((x - 18, bottom - 18, x + 18, bottom + 18), fill=background)
    for y in range(top + 30, bottom - 24, 16):  # perforation
        draw.ellipse((tear - 4, y, tear + 4, y + 8), fill=background)
    draw.rectangle((left + 30, top + 28, tear - 40, top + 74), fill=accent)
    draw.text((left + 46, top + 36), stub.category.upper() + "  -  ADMIT ONE", font=_font(28), fill=paper)

    text_left, text_width = left + 46, tear - left - 96
    font, event = _fit(draw, stub.event_name, text_width, 56)
    draw.text((text_left, top + 100), event, font=font, fill=ink)
    font, performer = _fit(draw, stub.performer, text_width, 36)
    draw.text((text_left, top + 172), performer, font=font, fill=accent)
    font, place = _fit(draw, f"{stub.venue}, {stub.city}", text_width, 30)
    draw.text((text_left, top + 226), place, font=font, fill=ink)
    long_date = stub.event_date.strftime("%A %d %B %Y").upper()
    draw.text((text_left, top + 272), long_date, font=_font(28), fill=ink)
    draw.line((text_left, bottom - 92, tear - 40, bottom - 92), fill=accent, width=3)
    price = f"${stub.price_cents // 100}.{stub.price_cents % 100:02d}"
    draw.text((text_left, bottom - 76), f"{stub.seat}    {price}", font=_font(30), fill=ink)

    stub_left = tear + 30
    draw.text((stub_left, top + 40), "ADMIT", font=_font(34), fill=accent)
    draw.text((stub_left, top + 80), "ONE", font=_font(34), fill=accent)
    for line, text in enumerate(stub.seat.split("  ")):
        draw.text((stub_left, top + 160 + line * 44), text, font=_font(30), fill=ink)
    draw.text((stub_left, bottom - 70), stub.event_date.strftime("%m/%d/%y"), font=_font(28), fill=ink)
    return image


def _encode(image: Image.Image, image_format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=image_format, **options)
    return out.getvalue()


# Pillow first shrinks a picture by a whole factor (reduce(), a box filter), then resamples the
# rest with LANCZOS: 1200 -> 600 -> 480 px costs ~6 ms a picture against ~12 for LANCZOS from the
# full size (the seed draws ~80), and differs from it by under one level per channel on average.
THUMBNAIL_REDUCING_GAP = 1.1


def ticket_thumbnail(image: Image.Image) -> Image.Image:
    thumb = image.copy()
    thumb.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS, reducing_gap=THUMBNAIL_REDUCING_GAP)
    return thumb


def store_ticket_images(image: Image.Image) -> tuple[str, str]:
    """Save photo (JPEG) and thumbnail (WebP) through the storage API; return their names."""
    today = datetime.date.today()
    photo_name = default_storage.save(
        f"stubs/{today:%Y/%m}/{uuid.uuid4().hex}.jpg", ContentFile(_encode(image, "JPEG", quality=85))
    )
    thumb = ticket_thumbnail(image)
    thumb_name = default_storage.save(
        f"stubs/thumbs/{today:%Y/%m}/{uuid.uuid4().hex}.webp", ContentFile(_encode(thumb, "WEBP", quality=80))
    )
    return photo_name, thumb_name


@transaction.atomic
def create_demo_listing(*, seller, stub: DemoStub, created_at=None, shipping_cents: int = 0) -> Listing:
    """One listing with its own drawn picture (the demo set: a few dozen, each different)."""
    photo_name, thumb_name = store_ticket_images(render_ticket(stub))
    row = Stub.objects.create(**stub.stub_fields(), photo=photo_name, thumbnail=thumb_name)
    listing = Listing.objects.create(
        seller=seller, stub=row, price_cents=stub.price_cents, shipping_cents=shipping_cents
    )
    if created_at is not None:  # spread "listed on" dates; auto_now_add ignores a given value
        Listing.objects.filter(pk=listing.pk).update(created_at=created_at)
    return listing


def shared_category_images(rng: random.Random) -> dict[str, tuple[str, str]]:
    """One stored picture per category, shared by bulk rows (no drawing per row)."""
    return {category: store_ticket_images(render_ticket(demo_stub(rng, category))) for category in EVENTS}


def bulk_create_listings(
    *, sellers, count: int, rng: random.Random, images: dict[str, tuple[str, str]] | None = None,
    batch_size: int = 5000, progress=None,
) -> int:
    """`count` extra listings for benchmarks, in batches; pictures shared per category."""
    sellers = list(sellers)
    if not sellers:
        raise ValueError("bulk_create_listings needs at least one seller")
    created = 0
    while created < count:
        size = min(batch_size, count - created)
        drafts = [demo_stub(rng) for _ in range(size)]
        with transaction.atomic():
            stubs = Stub.objects.bulk_create(
                [
                    Stub(
                        **draft.stub_fields(),
                        photo=images[draft.category][0] if images else "",
                        thumbnail=images[draft.category][1] if images else "",
                    )
                    for draft in drafts
                ],
                batch_size=1000,
            )
            Listing.objects.bulk_create(
                [
                    Listing(seller=rng.choice(sellers), stub=stub, price_cents=draft.price_cents,
                            status=ListingStatus.ACTIVE)
                    for stub, draft in zip(stubs, drafts, strict=True)
                ],
                batch_size=1000,
            )
        created += size
        if progress:
            progress(created)
    return created


def refresh_planner_statistics() -> None:
    """After a bulk load, let the query planner know the tables' new sizes.

    PostgreSQL's autovacuum gets there by itself, later; SQLite never does. Without fresh
    statistics SQLite may sort 100,000 rows to show 24 instead of walking an index.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
        elif connection.vendor == "postgresql":
            for table in (Stub._meta.db_table, Listing._meta.db_table, "accounts_user"):
                cursor.execute(f"ANALYZE {table}")


# (rating, comment, the seller's answer or "") for the demo's completed orders.
DEMO_FEEDBACK = (
    (5, "Arrived in a rigid mailer inside a sleeve, exactly as pictured. Great seller.", "Thanks, enjoy it!"),
    (5, "Fast shipping and the stub is even better in person.", ""),
    (4, "Lovely stub; a small corner crease the photos did not show, but a fair price.",
     "Sorry about the corner, I have added a close-up photo to my other listings."),
)
DEMO_TRACKING = (("usps", "9400 1118 9922 3344 5566 77"), ("ups", "1Z999AA10123456784"))


def create_demo_orders(*, listings, buyers, rng: random.Random, log=None) -> list:
    """A few orders at each step after payment, so a newcomer sees a living marketplace: three
    completed and rated (one answered), two shipped with tracking, one paid and waiting. Each is
    a real payment in the Stripe sandbox, made the way a buyer pays (demo.orders), so
    staff can refund or dispute it like any order; then shipped and rated through order_transition
    and the feedback service, so each has its timeline. Stops, saying why through `log`, when
    Stripe does not answer. Listings whose seller cannot take payments are skipped."""
    steps = (["completed"] * len(DEMO_FEEDBACK)) + (["shipped"] * len(DEMO_TRACKING)) + ["paid"]
    payable = [listing for listing in listings if listing.seller.can_accept_payments]
    orders = []
    for index, (listing, step) in enumerate(zip(payable, steps, strict=False)):
        buyer = buyers[index % len(buyers)]
        shipping = {
            "shipping_name": buyer.get_full_name() or buyer.username,
            "shipping_line1": f"{rng.randint(2, 990)} Elm Street", "shipping_city": "Springfield",
            "shipping_state": "IL", "shipping_postal_code": "62701", "shipping_country": "US",
        }
        try:
            order = demo_order_pay(listing_id=listing.pk, buyer=buyer, shipping=shipping)
        except DomainError as error:
            if log:
                log(f"Demo orders stop at {len(orders)}: {error.message}")
            break
        with transaction.atomic():
            if step in ("shipped", "completed"):
                carrier, number = DEMO_TRACKING[index % len(DEMO_TRACKING)]
                order.shipping_carrier, order.tracking_number = carrier, number
                order.save(update_fields=["shipping_carrier", "tracking_number"])
                order_transition(order=order, to=OrderStatus.SHIPPED, actor=listing.seller, message="Shipped")
            if step == "completed":
                order_transition(
                    order=order, to=OrderStatus.COMPLETED, actor=buyer, message="Buyer confirmed receipt"
                )
                rating, comment, reply = DEMO_FEEDBACK[index]
                feedback_leave(order_id=order.pk, buyer=buyer, rating=rating, comment=comment)
                if reply:
                    feedback_reply(order_id=order.pk, seller=listing.seller, reply=reply)
        orders.append(order)
    return orders
