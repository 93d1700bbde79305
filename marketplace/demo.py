"""Demo and benchmark data: realistic stubs, ticket pictures drawn with Pillow, fast bulk inserts.

Used by `manage.py seed_demo` and `bench/browse.py`. Runtime code only (no Faker): the names and
places below are written out so the demo reads like a real collection.
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

from marketplace.images import THUMBNAIL_SIZE
from marketplace.models import Category, Condition, Listing, ListingStatus, Stub

# (event or tour, performer) per category; the venues are real places where such events happen.
EVENTS = {
    Category.CONCERT: [
        ("Born in the U.S.A. Tour", "Bruce Springsteen"), ("The Joshua Tree Tour", "U2"),
        ("Purple Rain Tour", "Prince"), ("Rumours Tour", "Fleetwood Mac"),
        ("A Night at the Opera Tour", "Queen"), ("Bad World Tour", "Michael Jackson"),
        ("Blond Ambition World Tour", "Madonna"), ("Division Bell Tour", "Pink Floyd"),
        ("Nevermind Tour", "Nirvana"), ("Eras Tour", "Taylor Swift"),
        ("Renaissance World Tour", "Beyoncé"), ("Voodoo Lounge Tour", "The Rolling Stones"),
        ("Zoo TV Tour", "U2"), ("Back in Black Tour", "AC/DC"), ("OK Computer Tour", "Radiohead"),
        ("After Hours til Dawn", "The Weeknd"), ("Music of the Spheres", "Coldplay"),
    ],
    Category.SPORTS: [
        ("World Series Game 7", "Red Sox vs Cardinals"), ("Super Bowl XLII", "Giants vs Patriots"),
        ("NBA Finals Game 6", "Bulls vs Jazz"), ("Wimbledon Men's Final", "Federer vs Nadal"),
        ("FIFA World Cup Final", "Argentina vs France"), ("Stanley Cup Final", "Rangers vs Canucks"),
        ("The Masters, Final Round", "Augusta National"), ("Kentucky Derby", "Churchill Downs"),
        ("Thanksgiving Classic", "Cowboys vs Lions"), ("Opening Day", "Yankees vs Orioles"),
        ("Rumble in the Jungle", "Ali vs Foreman"), ("Monday Night Football", "Packers vs Bears"),
    ],
    Category.THEATRE: [
        ("The Phantom of the Opera", "Original Broadway Cast"), ("Hamilton", "Original Broadway Cast"),
        ("Cats", "Original London Cast"), ("Les Misérables", "Royal Shakespeare Company"),
        ("Rent", "New York Theatre Workshop"), ("A Chorus Line", "Shubert Theatre Company"),
        ("Death of a Salesman", "Dustin Hoffman"), ("The Lion King", "Disney Theatrical"),
        ("Wicked", "Original Broadway Cast"), ("Hamlet", "Royal National Theatre"),
    ],
    Category.COMEDY: [
        ("Delirious", "Eddie Murphy"), ("Killin' Them Softly", "Dave Chappelle"),
        ("I'm Telling You for the Last Time", "Jerry Seinfeld"), ("Bigger & Blacker", "Chris Rock"),
        ("Live on the Sunset Strip", "Richard Pryor"), ("Comedy Central Presents", "Mitch Hedberg"),
        ("Nanette", "Hannah Gadsby"), ("Kill Tony Live", "Tony Hinchcliffe"),
    ],
    Category.FESTIVAL: [
        ("Woodstock Music & Art Fair", "Various Artists"), ("Lollapalooza", "Various Artists"),
        ("Coachella Valley Music and Arts Festival", "Various Artists"), ("Live Aid", "Various Artists"),
        ("Monterey Pop Festival", "Various Artists"), ("Glastonbury Festival", "Various Artists"),
        ("Bonnaroo", "Various Artists"), ("New Orleans Jazz & Heritage Festival", "Various Artists"),
        ("Austin City Limits", "Various Artists"),
    ],
    Category.FILM: [
        ("Star Wars: Opening Night", "20th Century Fox"), ("Jurassic Park Premiere", "Universal Pictures"),
        ("Titanic: First Showing", "Paramount Pictures"), ("Back to the Future", "Universal Pictures"),
        ("The Dark Knight IMAX", "Warner Bros."), ("Pulp Fiction", "Miramax"),
        ("E.T. the Extra-Terrestrial", "Universal Pictures"), ("Avengers: Endgame", "Marvel Studios"),
    ],
    Category.OTHER: [
        ("Apollo 11 Launch Viewing", "NASA"), ("World's Fair", "Flushing Meadows"),
        ("Ringling Bros. Circus", "Barnum & Bailey"), ("Disney on Ice", "Feld Entertainment"),
        ("Monster Jam", "Feld Motorsports"), ("Pope John Paul II Mass", "Archdiocese of New York"),
        ("Auto Show Preview Night", "North American International"),
    ],
}

VENUES = {
    Category.CONCERT: [
        ("Madison Square Garden", "New York"), ("Meadowlands Arena", "East Rutherford"),
        ("The Forum", "Inglewood"), ("Wembley Stadium", "London"), ("Red Rocks Amphitheatre", "Morrison"),
        ("Hollywood Bowl", "Los Angeles"), ("Fillmore West", "San Francisco"),
        ("The Spectrum", "Philadelphia"),
        ("Soldier Field", "Chicago"), ("Hammersmith Odeon", "London"),
    ],
    Category.SPORTS: [
        ("Fenway Park", "Boston"), ("Yankee Stadium", "New York"), ("Wrigley Field", "Chicago"),
        ("United Center", "Chicago"), ("Lambeau Field", "Green Bay"), ("Madison Square Garden", "New York"),
        ("All England Club", "London"), ("Lusail Stadium", "Lusail"), ("Rose Bowl", "Pasadena"),
    ],
    Category.THEATRE: [
        ("Majestic Theatre", "New York"), ("Richard Rodgers Theatre", "New York"),
        ("New London Theatre", "London"), ("Palace Theatre", "London"), ("Nederlander Theatre", "New York"),
        ("Pantages Theatre", "Los Angeles"), ("Gershwin Theatre", "New York"),
    ],
    Category.COMEDY: [
        ("Constitution Hall", "Washington"), ("The Comedy Store", "Los Angeles"),
        ("Carnegie Hall", "New York"), ("Apollo Theater", "New York"), ("Just for Laughs Hall", "Montreal"),
        ("The Ryman", "Nashville"),
    ],
    Category.FESTIVAL: [
        ("Max Yasgur's Farm", "Bethel"), ("Grant Park", "Chicago"), ("Empire Polo Club", "Indio"),
        ("John F. Kennedy Stadium", "Philadelphia"), ("Monterey County Fairgrounds", "Monterey"),
        ("Worthy Farm", "Pilton"), ("Zilker Park", "Austin"), ("Fair Grounds Race Course", "New Orleans"),
    ],
    Category.FILM: [
        ("Grauman's Chinese Theatre", "Los Angeles"), ("Ziegfeld Theatre", "New York"),
        ("Cinerama Dome", "Los Angeles"), ("Castro Theatre", "San Francisco"),
        ("Uptown Theater", "Washington"),
        ("Odeon Leicester Square", "London"),
    ],
    Category.OTHER: [
        ("Kennedy Space Center", "Cape Canaveral"), ("Flushing Meadows", "New York"),
        ("Madison Square Garden", "New York"), ("Yankee Stadium", "New York"), ("Cobo Center", "Detroit"),
        ("Astrodome", "Houston"),
    ],
}

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
CATEGORY_YEARS = {
    Category.CONCERT: (1966, 2024), Category.SPORTS: (1960, 2024), Category.THEATRE: (1975, 2024),
    Category.COMEDY: (1978, 2023), Category.FESTIVAL: (1967, 2024), Category.FILM: (1977, 2023),
    Category.OTHER: (1964, 2020),
}


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


def demo_stub(rng: random.Random, category: str | None = None) -> DemoStub:
    category = category or rng.choice(list(EVENTS))
    event_name, performer = rng.choice(EVENTS[category])
    venue, city = rng.choice(VENUES[category])
    first_year, last_year = CATEGORY_YEARS[category]
    event_date = datetime.date(rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28))
    # Most stubs sell for tens of dollars; a few collector pieces for hundreds or more.
    price_cents = rng.choice([rng.randint(8, 60), rng.randint(40, 250), rng.randint(200, 2500)]) * 100
    price_cents += rng.choice([0, 0, 50, 99])
    seat = f"SEC {rng.randint(100, 340)}  ROW {rng.choice('ABCDEFGHJKLMN')}  SEAT {rng.randint(1, 30)}"
    return DemoStub(
        event_name=event_name, performer=performer, venue=venue, city=city, event_date=event_date,
        category=category, condition=rng.choice(list(Condition.values)), description=rng.choice(DESCRIPTIONS),
        price_cents=price_cents, seat=seat,
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


def store_ticket_images(image: Image.Image) -> tuple[str, str]:
    """Save photo (JPEG) and thumbnail (WebP) through the storage API; return their names."""
    today = datetime.date.today()
    photo_name = default_storage.save(
        f"stubs/{today:%Y/%m}/{uuid.uuid4().hex}.jpg", ContentFile(_encode(image, "JPEG", quality=85))
    )
    thumb = image.copy()
    thumb.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    thumb_name = default_storage.save(
        f"stubs/thumbs/{today:%Y/%m}/{uuid.uuid4().hex}.webp", ContentFile(_encode(thumb, "WEBP", quality=80))
    )
    return photo_name, thumb_name


@transaction.atomic
def create_demo_listing(*, seller, stub: DemoStub, created_at=None) -> Listing:
    """One listing with its own drawn picture (the demo set: a few dozen, each different)."""
    photo_name, thumb_name = store_ticket_images(render_ticket(stub))
    row = Stub.objects.create(**stub.stub_fields(), photo=photo_name, thumbnail=thumb_name)
    listing = Listing.objects.create(seller=seller, stub=row, price_cents=stub.price_cents)
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
