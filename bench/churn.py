"""A catalogue that changes: saves listings through the ORM at a steady rate, and checks from
outside that no listing it has just reserved or sold is shown as buyable.

    python bench/churn.py --base-url http://127.0.0.1:PORT --rate 20 --report /tmp/churn.json

bench/pages.py starts it around its `[churn]` and `[mixed]` rows and stops it with SIGTERM; it
then writes its report (JSON) and exits. Not run by scripts/bench.sh on its own.

The writer does RATE writes a second on a fixed schedule, from --writers threads (so one slow
save does not hold back the next), each through marketplace.services as the site does it, in
its own transaction, on listings someone can buy now, half of them among the newest (the first
page) and half anywhere: a price edit (25 %), a title edit (25 %), a reservation by one of the
seeded holder buyers (20 %), a sale (15 %: a listing it holds, or any listing reserved and sold
in one transaction) and the release of a hold it took earlier (15 %; a price edit when it holds
none). A refused write (a price locked by a hold, a listing another writer thread took first)
counts as refused, not as a write. The holds it still keeps are released when it stops.

The checker (a second thread) takes every reservation and sale once it has committed and asks
the running site, anonymously, for the listing's page, the first browse page and the seller's
page, and, with a logged-in buyer's session (not the holder), for the listing's page again. A
listing page with its checkout link, or a browse or seller page with a card linking to the
listing, is a violation: the listing was reserved or sold before the request was sent. A hold
is released only once it has been checked, and a sale is never undone, so every check is made
while the listing is still not buyable.
"""

import argparse
import http.client
import json
import os
import queue
import random
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NEWEST = 600  # listings on the first pages that the writer picks half of its targets from
ANYWHERE = 3000
MIX = [("price", 25), ("title", 25), ("reserve", 20), ("sale", 15), ("release", 15)]
TITLE_MARK = " (edited)"


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.site.settings")
    import django

    django.setup()


def holders():
    """The seeded buyers who hold and buy here (bench/seed.py gives them no holds of their own)."""
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(username__startswith="bench_holder").order_by("pk"))


def viewer():
    """A logged-in buyer who looks at the pages, never the one holding the listing."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="bench_buyer0")


def session_cookie(user) -> str:
    """A real session for `user`, made by Django's login (what the login page does after the
    password check)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


class Targets:
    """Listings someone can buy now: the newest (the first browse pages) and a random spread."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.newest: list[int] = []
        self.anywhere: list[int] = []
        self.lock = threading.Lock()
        self.refill()

    def refill(self):
        from marketplace.models import Listing
        from marketplace.selectors import ListingFilters, listing_search

        purchasable = listing_search(filters=ListingFilters())
        self.newest = list(purchasable.order_by("-created_at", "-id").values_list("pk", flat=True)[:NEWEST])
        ids = Listing.objects.order_by("pk").values_list("pk", flat=True)
        low, high = ids.first() or 0, ids.last() or 0
        candidates = [self.rng.randint(low, high) for _ in range(ANYWHERE * 2)]
        self.anywhere = list(purchasable.filter(pk__in=candidates).values_list("pk", flat=True)[:ANYWHERE])

    def pick(self) -> int | None:
        with self.lock:
            pool = self.newest if self.rng.random() < 0.5 else self.anywhere
            if not pool:
                self.refill()
                pool = self.newest or self.anywhere
            return self.rng.choice(pool) if pool else None

    def forget(self, listing_id: int):
        with self.lock:
            for pool in (self.newest, self.anywhere):
                if listing_id in pool:
                    pool.remove(listing_id)


class Writer:
    def __init__(self, *, rate: float, checks: queue.Queue, seed: int):
        from django.db.models import Count
        from django.utils import timezone

        from marketplace.models import Listing, ListingStatus

        self.rate = rate
        self.checks = checks
        self.rng = random.Random(seed)
        self.holders = holders()
        live = Listing.objects.filter(
            reserved_by__in=self.holders, status=ListingStatus.RESERVED, reserved_until__gt=timezone.now()
        )
        self.holds = Counter(
            {row["reserved_by"]: row["n"] for row in live.values("reserved_by").annotate(n=Count("id"))}
        )
        self.targets = Targets(self.rng)
        self.held: list[tuple[int, object]] = []  # (listing id, holder) checked and releasable
        self.held_lock = threading.Lock()
        self.done = Counter()
        self.refused = Counter()
        self.stop = threading.Event()
        self.started = self.finished = 0.0
        self.write_seconds: list[float] = []

    def holder(self):
        """A holder with few holds (a buyer may hold only MAX_ACTIVE_RESERVATIONS_PER_BUYER)."""
        with self.held_lock:
            chosen = min(
                self.rng.sample(self.holders, min(8, len(self.holders))), key=lambda h: self.holds[h.pk]
            )
            self.holds[chosen.pk] += 1  # counted at once: another writer must not pick it full
            return chosen

    def unhold(self, holder):
        with self.held_lock:
            self.holds[holder.pk] -= 1

    def take_held(self):
        with self.held_lock:
            return self.held.pop(self.rng.randrange(len(self.held))) if self.held else None

    def act(self, kind: str) -> str | None:
        """Do one `kind` of write; the kind done (a release with no hold to release edits a
        price instead), or None when there was nothing to write."""
        from django.db import transaction

        from marketplace import services
        from marketplace.models import Listing

        held = self.take_held() if kind == "release" or (kind == "sale" and self.rng.random() < 0.5) else None
        if kind == "release" and held:
            services.listing_release(listing_id=held[0], buyer=held[1])
            self.unhold(held[1])
            return kind
        if kind == "sale" and held:
            services.listing_mark_sold(listing_id=held[0], buyer=held[1])
            self.unhold(held[1])
            self.checks.put(("sold", held[0]))
            return kind
        kind = "price" if kind == "release" else kind
        listing_id = self.targets.pick()
        if listing_id is None:
            return None
        if kind in ("reserve", "sale"):
            holder = self.holder()
            try:
                if kind == "reserve":
                    services.listing_reserve(listing_id=listing_id, buyer=holder)
                else:
                    with transaction.atomic():  # a checkout's hold, then the payment, as a buyer does it
                        services.listing_reserve(listing_id=listing_id, buyer=holder)
                        services.listing_mark_sold(listing_id=listing_id, buyer=holder)
                    self.unhold(holder)
            except Exception:
                self.unhold(holder)
                raise
            self.targets.forget(listing_id)
            self.checks.put(("reserved" if kind == "reserve" else "sold", listing_id, holder))
            return kind
        listing = Listing.objects.select_related("seller", "stub").get(pk=listing_id)
        if kind == "price":
            step = self.rng.choice([-100, -50, 50, 100])
            services.listing_update(
                listing_id=listing_id, seller=listing.seller, price_cents=max(100, listing.price_cents + step)
            )
        else:
            title = listing.stub.event_name
            title = title[: -len(TITLE_MARK)] if title.endswith(TITLE_MARK) else title + TITLE_MARK
            services.listing_update(listing_id=listing_id, seller=listing.seller, event_name=title)
        return kind

    def release_all(self):
        """The holds still kept go back on sale (the next run's holders start free)."""
        from marketplace import services

        while held := self.take_held():
            services.listing_release(listing_id=held[0], buyer=held[1])

    def run(self, threads: int):
        """RATE writes a second from `threads` writers (a site's writes come from many requests at
        once: one slow save must not hold back the next one's start)."""
        kinds = [kind for kind, weight in MIX for _ in range(weight)]
        numbers = iter(range(10**9))
        self.started = time.perf_counter()

        def write():
            from django.db import connection

            from core.errors import DomainError

            while True:
                with self.held_lock:
                    due = self.started + next(numbers) / self.rate
                    kind = self.rng.choice(kinds)
                wait = due - time.perf_counter()
                if self.stop.is_set() or (wait > 0 and self.stop.wait(wait)):
                    break
                began = time.perf_counter()
                try:
                    done = self.act(kind)
                except DomainError as error:
                    with self.held_lock:
                        self.refused[f"{kind}: {type(error).__name__}"] += 1
                    continue
                if done:
                    with self.held_lock:
                        self.done[done] += 1
                        self.write_seconds.append(time.perf_counter() - began)
            connection.close()

        writers = [threading.Thread(target=write) for _ in range(threads)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        self.finished = time.perf_counter()

    def checked(self, listing_id: int, holder):
        with self.held_lock:
            self.held.append((listing_id, holder))


class Checker:
    def __init__(self, *, base_url: str, checks: queue.Queue, writer: Writer):
        from django.urls import reverse

        self.base = urlsplit(base_url)
        self.checks = checks
        self.writer = writer
        self.viewer_cookie = session_cookie(viewer())
        self.checkout_url = lambda pk: reverse("payments_pages:checkout", args=[pk])
        self.listing_url = lambda pk: reverse("marketplace:listing_detail", args=[pk])
        self.seller_url = lambda name: reverse("marketplace:seller_profile", args=[name])
        self.listings = 0
        self.requests = 0
        self.violations: list[str] = []
        self.errors = Counter()
        self.conn = None

    def get(self, path: str, cookie: str = "") -> str:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=30)
            try:
                self.conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
                response = self.conn.getresponse()
                body = response.read().decode("utf-8", "replace")
                self.requests += 1
                if response.status >= 400:
                    self.errors[f"{path.split('?')[0].rstrip('0123456789/')} {response.status}"] += 1
                return body
            except OSError:
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        return ""

    def looks(self, listing_id: int) -> list[tuple[str, str, str, str]]:
        """(where, path, Cookie, what shows the listing as buyable there) for one listing."""
        from marketplace.models import Listing

        seller = Listing.objects.select_related("seller").get(pk=listing_id).seller.username
        card = f'href="{self.listing_url(listing_id)}"'
        buy = f'href="{self.checkout_url(listing_id)}"'
        return [
            ("listing page", self.listing_url(listing_id), "", buy),
            ("listing page, logged in", self.listing_url(listing_id), self.viewer_cookie, buy),
            ("first browse page", "/", "", card),
            ("seller page", self.seller_url(seller), "", card),
        ]

    def check(self, state: str, listing_id: int, holder):
        for where, path, cookie, buyable in self.looks(listing_id):
            if buyable in self.get(path, cookie):
                self.violations.append(f"{state} listing {listing_id} shown buyable on the {where} ({path})")
        self.listings += 1
        if state == "reserved":
            self.writer.checked(listing_id, holder)

    def control(self, listing_id: int) -> list[str]:
        """The check's markers, on the newest listing on sale (the first card of the browse and
        seller pages): where one is missing, the check could not see a violation."""
        return [
            f"{where} ({path})"
            for where, path, cookie, buyable in self.looks(listing_id)
            if buyable not in self.get(path, cookie)
        ]

    def run(self, stop: threading.Event):
        while True:
            try:
                item = self.checks.get(timeout=0.2)
            except queue.Empty:
                if stop.is_set():
                    return
                continue
            state, listing_id, *holder = item
            self.check(state, listing_id, holder[0] if holder else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--report", required=True)
    parser.add_argument("--writers", type=int, default=4, help="threads that write")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    setup_django()
    checks: queue.Queue = queue.Queue()
    writer = Writer(rate=args.rate, checks=checks, seed=args.seed)
    checker = Checker(base_url=args.base_url, checks=checks, writer=writer)
    checker_stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: writer.stop.set())
    signal.signal(signal.SIGINT, lambda *_: writer.stop.set())
    newest = writer.targets.newest[:1]
    control_missing = checker.control(newest[0]) if newest else ["no listing on sale"]
    checking = threading.Thread(target=checker.run, args=(checker_stop,))
    checking.start()
    Path(args.report + ".ready").touch()
    writer.run(args.writers)
    checker_stop.set()  # the checker finishes the queue first
    checking.join(timeout=30)
    writer.release_all()
    elapsed = max(1e-9, writer.finished - writer.started)
    writes = sum(writer.done.values())
    durations = sorted(writer.write_seconds)
    report = {
        "seconds": elapsed,
        "writes": writes,
        "rate": writes / elapsed,
        "target_rate": args.rate,
        "by_kind": dict(writer.done),
        "refused": dict(writer.refused),
        "write_p99_ms": durations[int(len(durations) * 0.99)] * 1000 if durations else 0.0,
        "checked_listings": checker.listings,
        "check_requests": checker.requests,
        "unchecked": checks.qsize(),
        "control_missing": control_missing,
        "violations": checker.violations,
        "check_errors": dict(checker.errors),
    }
    Path(args.report).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
