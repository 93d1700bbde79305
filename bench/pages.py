"""Page benchmark: wrk against a running gunicorn, every page alternating with a reference page.

    python bench/pages.py --base-url http://127.0.0.1:PORT --gunicorn-pid PID

scripts/bench.sh starts PostgreSQL, Redis, the sandbox and gunicorn (bench.site.settings) and
calls this. Each round runs wrk on the reference page (TechEmpower's "fortunes", see
bench/site/reference.py), then on every product page, then on the reference again; a page's
ratio is its req/s over the mean of the two reference runs of its own round, and the table shows
the median over the rounds, so a machine that is busier in one minute than in the next does not
move the ratios. Pages with many addresses (detail, deep pages) pick one at random per request,
so a cache serves them only as often as it would serve real visitors.

Visitors: rows without a prefix are anonymous (the page cache may answer them); `[miss]` rows
send a session cookie that names no session (never cached, no user); `[buyer]` rows are real
logged-in buyers: BENCH_BUYER_SESSIONS (default 50) of the seeded buyers logged in through
Django's login, each request with one of their session cookies at random (wrk's Lua script
rotates them). `[churn R/s]` rows are anonymous while bench/churn.py edits, reserves, sells and
releases listings through the ORM (BENCH_CHURN_RATE a second, default 20; R is the rate it
achieved) and checks that no listing it has just reserved or sold is shown as buyable; `[mixed
70/30 + churn]` sends 70 % anonymous and 30 % logged-in requests spread over the page kinds,
with the same writer. The reference itself runs without the writer; `[churn] reference` shows
what the writer costs the machine, and below the table every churn row is also given over
`[churn] reference` of its round (the writer's own CPU taken out of the ratio).

Columns: req/s, latency p50/p99 (wrk --latency; medians over rounds), ratio to the reference,
`drawn`: the share of the row's requests whose page was drawn rather than served from a copy
(the misses; bench/site/reference.py counts them), SQL queries of one request as served (0 when
the anonymous page cache answers) and with the page cache off (what a miss costs; the bench
middleware counts them), non-2xx answers, `dropped`: wrk's socket errors (a keep-alive
connection closed under a request, as when a worker is recycled after max_requests: the
reference has them too), and for the churn rows `stale buy`: violations over listings checked
(must be 0), and `busiest`: how many of wrk's connections the busiest gunicorn worker held in
each round's run (a run with more than BENCH_MAX_BUSIEST, default 10, is run again, up to three
times, and the most even one counts: a worker serves the connections it accepted for the whole
run, so one holding them all leaves a core idle; 0 keeps every run as it came). Above the table:
which gunicorn served (scripts/bench.sh's BENCH_GUNICORN). Below it: each gunicorn worker's RSS
after the run and how many requests the run sent, and the writer's figures.
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFERENCE = "reference (fortunes)"
MISS = "[miss] "
MISS_COOKIE = "sessionid=bench-no-such-session"
BUYER = "[buyer] "
CHURN = "[churn] "
MIXED = "[mixed 70/30 + churn]"
BUYER_SESSIONS = int(os.environ.get("BENCH_BUYER_SESSIONS", 50))
CHURN_RATE = float(os.environ.get("BENCH_CHURN_RATE", 20))
# A run whose busiest gunicorn worker held more than this many of wrk's 16 connections is run
# again (up to SPREAD_TRIES in all; the most even one counts): see `connections_per_worker`.
# 0 keeps every run as it came.
MAX_BUSIEST = int(os.environ.get("BENCH_MAX_BUSIEST", 10))
SPREAD_TRIES = 3
FILTERED = "/?q=springsteen&category=concert&min_price=20&max_price=2000&sort=price_desc"
# The mixed row's page kinds and their shares of the requests.
# Random listings the rows walk through (fewer where fewer are on sale).
LISTINGS_WALKED = 4000
MIX_KINDS = [("browse", 30), ("listing", 35), ("seller", 10), ("rock", 10), ("rare", 5), ("filtered", 10)]


@dataclass
class Page:
    """One row: its requests as (path, Cookie header or ""), one drawn at random per request, or
    with `walk` taken in turn (each wrk thread through its own half of the list), every run of
    the row going on where the last one stopped: no address is asked twice until the list runs
    out, not even by a run made again for its spread (`measure_spread`) seconds after the last."""

    name: str
    requests: list[tuple[str, str]]
    churn: bool = False
    walk: bool = False
    walked: int = 0  # where each thread's next run starts, from its half's beginning
    figures: dict = field(default_factory=dict)


def anonymous(paths: list[str], cookie: str = "") -> list[tuple[str, str]]:
    return [(path, cookie) for path in paths]


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.site.settings")
    import django

    django.setup()


def deep_cursor_paths(ids: list[int]) -> list[str]:
    """'Next' links from random listings (so mostly deep in the newest-first results), when the
    site has a keyset cursor."""
    try:
        from marketplace.selectors import listing_page_cursor
    except ImportError:
        return []
    from marketplace.models import Listing

    return [f"/?after={listing_page_cursor(listing=listing, sort='newest')}"
            for listing in Listing.objects.select_related("stub").filter(pk__in=ids[:500])]


def buyer_cookies(count: int) -> list[str]:
    """Session cookies of `count` seeded buyers, logged in by Django's login."""
    from django.contrib.auth import get_user_model

    from bench.churn import session_cookie
    from bench.seed import BENCH_BUYERS

    buyers = get_user_model().objects.filter(username__startswith="bench_buyer").order_by("pk")
    return [session_cookie(user) for user in buyers[: min(count, BENCH_BUYERS)]]


def scenarios(rng: random.Random) -> list[Page]:
    from bench.seed import PAYABLE_SELLERS, RARE_WORD
    from marketplace.models import Listing
    from marketplace.selectors import ListingFilters, listing_search

    purchasable = listing_search(filters=ListingFilters())
    # Random purchasable ids: sample the id range (ORDER BY random() over a million rows is slow).
    ids = Listing.objects.order_by("pk").values_list("pk", flat=True)
    low, high = ids.first(), ids.last()
    ids = []
    if low is not None:
        candidates = [rng.randint(low, high) for _ in range(3 * LISTINGS_WALKED)]
        ids = list(purchasable.filter(pk__in=candidates).values_list("pk", flat=True)[:LISTINGS_WALKED])
    ids = ids or [0]
    rng.shuffle(ids)  # a walk through them goes from seller to seller, as visitors would
    pages = max(1, purchasable.count() // 24)
    deep_numbers = [f"/?page={rng.randint(max(2, pages // 4), max(2, pages - 1))}" for _ in range(500)]
    listings = [f"/listings/{pk}/" for pk in ids]
    sellers = [f"/sellers/bench_seller{number}/" for number in range(PAYABLE_SELLERS)]
    rare = f"/?q={RARE_WORD}"
    found = [
        Page(REFERENCE, anonymous(["/bench/fortunes/"])),
        Page("/ browse, first page", anonymous(["/"])),
        # A visitor with a session cookie is never served from the anonymous page cache: what a
        # miss costs on the first page (plus the session lookup a logged-in visitor has too).
        Page(MISS + "/ browse, first page", anonymous(["/"], MISS_COOKIE)),
        Page("/?q=rock&sort=price_asc", anonymous(["/?q=rock&sort=price_asc"])),
        Page(MISS + "/?q=rock&sort=price_asc", anonymous(["/?q=rock&sort=price_asc"], MISS_COOKIE)),
        Page("filtered+sorted+searched", anonymous([FILTERED])),
        Page("deep page=N (random)", anonymous(deep_numbers)),
    ]
    cursors = deep_cursor_paths(ids)
    if cursors:
        found.append(Page("deep 'next' cursor (random)", anonymous(cursors)))
    found += [
        # One listing over and over, as docs/performance.md's listing-detail goal is measured (the
        # page cache answers all but the first), then random listings, each asked once in a run:
        # misses, unless a run outlasts the list (the drawn column says).
        Page("/listings/<id>/ (one listing)", anonymous([f"/listings/{ids[0]}/"])),
        Page("/listings/<id>/ (random)", anonymous(listings), walk=True, walked=rng.randrange(len(ids))),
        Page("/sellers/<name>/", anonymous(["/sellers/bench_seller3/"])),
        Page("/api/listings/", anonymous(["/api/listings/"])),
        Page(MISS + "/api/listings/", anonymous(["/api/listings/"], MISS_COOKIE)),
    ]
    cookies = buyer_cookies(BUYER_SESSIONS)

    def logged_in(paths: list[str], count: int = 2000) -> list[tuple[str, str]]:
        return [(rng.choice(paths), rng.choice(cookies)) for _ in range(count)]

    # The mix picks its listings at random from 2,000, as it did before the listing rows walked
    # up to LISTINGS_WALKED, so its figures stay comparable with the earlier runs'.
    kinds = {"browse": ["/"], "listing": listings[:2000], "seller": sellers, "rock": ["/?q=rock"],
             "rare": [rare], "filtered": [FILTERED]}
    found += [
        Page(BUYER + "/ browse, first page", logged_in(kinds["browse"])),
        Page(BUYER + "/listings/<id>/ (random)", [(path, rng.choice(cookies)) for path in listings],
             walk=True, walked=rng.randrange(len(ids))),
        Page(BUYER + "/sellers/<name>/ (random)", logged_in(sellers)),
        Page(BUYER + "/?q=rock (common word)", logged_in(kinds["rock"])),
        Page(BUYER + f"/?q={RARE_WORD} (rare word)", logged_in([rare])),
        Page(BUYER + "filtered+sorted+searched", logged_in([FILTERED])),
        Page(CHURN + "reference (fortunes)", anonymous(["/bench/fortunes/"]), churn=True),
        Page(CHURN + "/ browse, first page", anonymous(["/"]), churn=True),
        Page(CHURN + "/?q=rock (common word)", anonymous(["/?q=rock"]), churn=True),
        Page(CHURN + "/listings/<id>/ (random)", anonymous(listings), churn=True, walk=True,
             walked=rng.randrange(len(ids))),
    ]
    weighted = [kind for kind, weight in MIX_KINDS for _ in range(weight)]
    mixed = []
    for _ in range(4000):
        path = rng.choice(kinds[rng.choice(weighted)])
        mixed.append((path, rng.choice(cookies) if rng.random() < 0.3 else ""))
    found.append(Page(MIXED, mixed, churn=True))
    return found


class Churn:
    """bench/churn.py running beside wrk: started before a churn row's run, stopped after it."""

    def __init__(self, base_url: str, folder: Path):
        self.base_url = base_url
        self.folder = folder
        self.reports: list[dict] = []
        self.process = None
        self.report = None

    def __enter__(self):
        self.report = self.folder / f"churn-{len(self.reports)}.json"
        ready = Path(f"{self.report}.ready")
        command = [sys.executable, str(ROOT / "bench" / "churn.py"), "--base-url", self.base_url,
                   "--rate", str(CHURN_RATE), "--report", str(self.report)]
        # Saves queue their Celery tasks (price-drop and reservation mails) on the bench Redis, as
        # the site's do, rather than running them in the writer; its own logs are not measured.
        broker = os.environ.get("CACHE_URL", "").rsplit("/", 1)[0] + "/2"
        env = {**os.environ, "LOG_LEVEL": "WARNING",
               **({"CELERY_BROKER_URL": broker} if broker.startswith("redis://") else {})}
        self.process = subprocess.Popen(command, env=env)
        for _ in range(600):
            if ready.exists() or self.process.poll() is not None:
                break
            time.sleep(0.1)
        if not ready.exists():
            self.process.kill()
            raise SystemExit("bench/churn.py did not start")
        time.sleep(1)  # a second of writes before the measurement
        return self

    def __exit__(self, *_exc):
        self.process.terminate()
        if self.process.wait(timeout=120) != 0:
            raise SystemExit("bench/churn.py failed")
        self.reports.append(json.loads(self.report.read_text()))


LUA = """
local requests = %s
local walk = %s
local threads = %d
local walked = %d
local started = 0
setup = function(thread)
  thread:set("position", walked + started * math.floor(#requests / threads))
  started = started + 1
end
init = function(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
request = function()
  local r
  if walk then
    position = position + 1
    r = requests[position %% #requests + 1]
  else
    r = requests[math.random(#requests)]
  end
  if r[2] == "" then
    return wrk.format(nil, r[1])
  end
  return wrk.format(nil, r[1], {Cookie = r[2], ["%s"] = "1"})
end
"""


def lua_script(page: Page, folder: Path, threads: int) -> Path:
    from bench.site.reference import BENCH_ROW_HEADER

    path = folder / f"{re.sub(r'[^a-z0-9]+', '_', page.name.lower())}.lua"
    listed = ", ".join(f"{{{json.dumps(p)}, {json.dumps(c)}}}" for p, c in page.requests)
    walk = "true" if page.walk else "false"
    path.write_text(LUA % ("{" + listed + "}", walk, threads, page.walked, BENCH_ROW_HEADER))
    return path


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def run_wrk(base_url, page: Page, *, seconds, threads, connections, folder):
    from bench.site.reference import BENCH_ROW_HEADER

    # wrk.format() without headers of its own sends these (-H), with them only its own.
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
               "-H", f"{BENCH_ROW_HEADER}: 1"]
    path, cookie = page.requests[0]
    if len(page.requests) > 1:
        command += ["-s", str(lua_script(page, folder, threads))]
    elif cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(base_url + path)
    drawn_before = pages_drawn()
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    time.sleep(min(1.5, seconds / 2))
    spread = connections_per_worker(urlsplit(base_url).port)
    out, _ = wrk.communicate()
    if wrk.returncode:
        raise subprocess.CalledProcessError(wrk.returncode, command, out)
    result = {
        "drawn": pages_drawn() - drawn_before,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "spread": spread,
    }
    if page.walk:
        page.walked += result["requests"] // threads
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["bad"] = int(bad.group(1)) if bad else 0
    result["dropped"] = sum(map(int, errors.groups())) if errors else 0
    return result


def pages_drawn() -> int:
    """How many pages wrk's requests have drawn so far (bench/site/reference.py's counter)."""
    from bench.site.reference import DRAWN_KEY, drawn_counter

    return int(drawn_counter().get(DRAWN_KEY) or 0)


def drawn_text(results: list[dict]) -> str:
    """The share of the row's requests that drew their page rather than being served a copy."""
    drawn, requests = sum(r["drawn"] for r in results), sum(r["requests"] for r in results)
    return f"{100 * drawn / requests:.0f}%" if requests else "?"


def connections_per_worker(port: int | None) -> str:
    """How wrk's connections sit on gunicorn's workers, the busiest first ("16" = all on one
    worker, "9/7"): wrk keeps its connections for the whole run and a worker serves the ones it
    accepted, so one worker holding them all leaves the other core idle and halves the row."""
    try:
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    counts = Counter(re.findall(r"pid=(\d+)", out))
    return "/".join(str(n) for n in sorted(counts.values(), reverse=True)) or "?"


def busiest(result: dict) -> int:
    share = result["spread"].split("/")[0]
    return int(share) if share.isdigit() else 0


def spread_text(results: list[dict]) -> str:
    """The busiest worker's share of the connections in each round's kept run, and the runs it
    took when some were run again (MAX_BUSIEST)."""
    text = ",".join(str(busiest(r)) for r in results)
    tries = sum(r.get("tries", 1) for r in results)
    return f"{text} ({tries} runs)" if tries > len(results) else text


def query_count(base_url, page: Page, mode="1") -> str:
    path, cookie = page.requests[0]
    headers = {"X-Bench-Queries": mode, **({"Cookie": cookie} if cookie else {})}
    request = urllib.request.Request(base_url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.headers.get("X-Bench-Queries", "?")
    except urllib.error.HTTPError as error:
        return f"{error.headers.get('X-Bench-Queries', '?')} ({error.code})"


def worker_rss_mb(master_pid: int) -> list[float]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--gunicorn-pid", type=int)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 5)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", default="", help="comma-separated substrings of page names to run")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    setup_django()
    from marketplace.models import Listing
    from marketplace.selectors import ListingFilters, listing_search

    rng = random.Random(7)
    pages = scenarios(rng)
    if args.only:
        wanted = args.only.split(",")
        pages = [p for p in pages if p.name == REFERENCE or any(w in p.name for w in wanted)]
    listings = Listing.objects.count()
    purchasable = listing_search(filters=ListingFilters()).count()
    # wrk's Lua scripts (with the buyers' session cookies) and the writer's reports: in
    # scripts/bench.sh's scratch folder, removed with it.
    folder = Path(tempfile.mkdtemp(prefix="bench-wrk-", dir=os.environ.get("BENCH_SCRATCH")))
    churn = Churn(args.base_url, folder)
    runs = {page.name: [] for page in pages}
    ratios = {page.name: [] for page in pages}
    churned = {page.name: [] for page in pages}  # the writer's report of each churn run
    # Churn rows over `[churn] reference` of their round: the page's cost with the writer's own
    # load on the same cores taken out of the ratio (the plain ratio keeps it in).
    under_writer = {page.name: [] for page in pages}
    churn_reference = CHURN + REFERENCE
    churn_rows = {page.name for page in pages if page.churn}
    total_requests = 0

    def measure(page: Page, seconds: int) -> dict:
        return run_wrk(args.base_url, page, seconds=seconds, threads=args.threads,
                       connections=args.connections, folder=folder)

    def measure_spread(page: Page, seconds: int) -> dict:
        tries = []
        while len(tries) < SPREAD_TRIES:
            tries.append(measure(page, seconds))
            if not MAX_BUSIEST or busiest(tries[-1]) <= MAX_BUSIEST:
                break
        kept = min(tries, key=busiest)
        kept["tries"] = len(tries)
        return kept

    for page in pages:  # warm up every worker: templates, connections, plans (no writer yet)
        measure(page, 1)
    # After the warm-up: every worker holds its database connection (a new one costs 2 queries).
    queries = {page.name: query_count(args.base_url, page) for page in pages}
    uncached = {page.name: query_count(args.base_url, page, "uncached") for page in pages}
    reference = next(page for page in pages if page.name == REFERENCE)
    for round_number in range(args.rounds):
        before = measure_spread(reference, args.seconds)
        this_round = {}
        for page in pages:
            if page is reference:
                continue
            if page.churn:
                with churn:
                    this_round[page.name] = measure_spread(page, args.seconds)
                churned[page.name].append(churn.reports[-1])
            else:
                this_round[page.name] = measure_spread(page, args.seconds)
        after = measure_spread(reference, args.seconds)
        reference_rps = (before["rps"] + after["rps"]) / 2
        runs[REFERENCE] += [before, after]
        ratios[REFERENCE].append(1.0)
        for name, result in this_round.items():
            runs[name].append(result)
            ratios[name].append(result["rps"] / reference_rps)
            if name in churn_rows and churn_reference in this_round and name != churn_reference:
                under_writer[name].append(result["rps"] / max(this_round[churn_reference]["rps"], 1e-9))
        total_requests += sum(r["requests"] for r in [before, after, *this_round.values()])
        print(f"  round {round_number + 1}/{args.rounds}: reference {reference_rps:,.0f} req/s",
              file=sys.stderr, flush=True)

    rows = []
    for page in pages:
        results = runs[page.name]
        row = {
            "page": page.name,
            "rps": statistics.median(r["rps"] for r in results),
            "p50": statistics.median(r["p50"] for r in results),
            "p99": statistics.median(r["p99"] for r in results),
            "ratio": statistics.median(ratios[page.name]),
            "queries": queries[page.name],
            "uncached": uncached[page.name],
            "bad": sum(r["bad"] for r in results),
            "dropped": sum(r["dropped"] for r in results),
            "stale_buy": "",
            "busiest": spread_text(results),
            # A [miss] row's visitor is never served a copy, nor is a copy drawn for them.
            "drawn": "-" if page.name.startswith(MISS) else drawn_text(results),
            "ratio_under_writer": (statistics.median(under_writer[page.name])
                                   if under_writer[page.name] else None),
        }
        reports = churned[page.name]
        if reports:
            rate = sum(r["writes"] for r in reports) / sum(r["seconds"] for r in reports)
            violations = sum(len(r["violations"]) for r in reports)
            checked = sum(r["checked_listings"] for r in reports)
            row.update(writer_rate=rate, violations=violations, checked=checked,
                       stale_buy=f"{violations}/{checked}")
            if page.name == MIXED:
                row["page"] = f"[mixed 70/30 + churn {rate:.1f}/s]"
            else:
                row["page"] = page.name.replace("[churn]", f"[churn {rate:.1f}/s]")
        rows.append(row)
    width = max(30, *(len(row["page"]) for row in rows))
    gunicorn = os.environ.get("BENCH_GUNICORN_LABEL", "")
    print()
    print(f"Pages at {listings:,} listings ({purchasable:,} purchasable); "
          f"wrk -t{args.threads} -c{args.connections}, {args.rounds} rounds x {args.seconds} s per page, "
          "alternating with the reference")
    if gunicorn:
        print(f"gunicorn for every row: {gunicorn}")
    print()
    print(f"| {'page':<{width}} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | {'vs ref':>6} "
          f"| {'drawn':>5} | {'queries':>7} | {'uncached':>8} | {'non-2xx':>7} | {'dropped':>7} "
          f"| {'stale buy':>9} | {'busiest':>9} |")
    print("|" + "|".join("-" * (size + 2) for size in (width, 8, 7, 7, 6, 5, 7, 8, 7, 7, 9, 9)) + "|")
    for row in rows:
        print(f"| {row['page']:<{width}} | {row['rps']:>8,.0f} | {row['p50']:>7.1f} | {row['p99']:>7.1f} | "
              f"{row['ratio']:>5.2f}x | {row['drawn']:>5} | {row['queries']:>7} | {row['uncached']:>8} "
              f"| {row['bad']:>7} | {row['dropped']:>7} | {row['stale_buy']:>9} | {row['busiest']:>9} |")
    print_under_writer(rows)
    rss = worker_rss_mb(args.gunicorn_pid) if args.gunicorn_pid else []
    if rss:
        print()
        print(f"gunicorn workers' RSS after {total_requests:,} requests in this run "
              f"(~{total_requests // max(1, len(rss)):,} each): " + ", ".join(f"{mb:.0f} MB" for mb in rss))
    log = os.environ.get("BENCH_GUNICORN_LOG")
    if log and Path(log).exists():
        # gunicorn.conf.py's max_requests: a worker restarting is a few seconds without it.
        restarts = Path(log).read_text(errors="replace").count("Autorestarting worker")
        print(f"gunicorn workers restarted {restarts} times during the run (max_requests recycling)")
    if churn.reports:
        print_churn(churn.reports)
    if args.json:
        figures = {"listings": listings, "purchasable": purchasable, "gunicorn": gunicorn, "rows": rows,
                   "rss_mb": rss, "requests": total_requests, "churn": churn.reports}
        Path(args.json).write_text(json.dumps(figures, indent=2))


def print_under_writer(rows: list[dict]) -> None:
    """The churn rows over the reference measured under the same writer, beside their ratio to
    the reference without it: the writer runs on the same two cores, so the plain ratio counts its
    CPU against the page."""
    paired = [row for row in rows if row["ratio_under_writer"] is not None]
    if not paired:
        return
    print()
    print("Churn rows against the reference page under the same writer (median over rounds):")
    for row in paired:
        print(f"  {row['page']}: {row['ratio_under_writer']:.2f}x of `[churn] reference` "
              f"({row['ratio']:.2f}x of the reference without the writer)")


def print_churn(reports: list[dict]) -> None:
    """The writer's side of every churn run together: what it did, what was refused, and the
    check's findings (each violation listed)."""
    seconds = sum(r["seconds"] for r in reports)
    writes = sum(r["writes"] for r in reports)
    kinds, refused, errors = Counter(), Counter(), Counter()
    for report in reports:
        kinds.update(report["by_kind"])
        refused.update(report["refused"])
        errors.update(report["check_errors"])
    violations = [v for r in reports for v in r["violations"]]
    print()
    print(f"churn writer: {writes:,} writes in {seconds:.0f} s ({writes / max(seconds, 1e-9):.1f}/s, "
          f"asked {reports[0]['target_rate']:g}/s; slowest 1 % of writes over "
          f"{max(r['write_p99_ms'] for r in reports):.0f} ms): "
          + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))
    if refused:
        print("  refused by the services (not counted as writes): "
              + ", ".join(f"{kind} {count}" for kind, count in sorted(refused.items())))
    print(f"  check: {sum(r['checked_listings'] for r in reports):,} reserved or sold listings looked at "
          f"({sum(r['check_requests'] for r in reports):,} requests, "
          f"{sum(r['unchecked'] for r in reports)} left unchecked), {len(violations)} shown buyable"
          + (f"; answers >= 400: {dict(errors)}" if errors else ""))
    blind = sorted({where for r in reports for where in r.get("control_missing", [])})
    if blind:
        print("  CHECK BLIND: a listing on sale showed no checkout link or card on: " + ", ".join(blind))
    for violation in violations[:20]:
        print(f"  VIOLATION: {violation}")


if __name__ == "__main__":
    main()
