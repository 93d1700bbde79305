"""Page benchmark: wrk against a running gunicorn, every page alternating with a reference page.

    python bench/pages.py --base-url http://127.0.0.1:PORT --gunicorn-pid PID

scripts/bench.sh starts PostgreSQL, Redis, the sandbox and gunicorn (bench.site.settings) and
calls this. Each round runs wrk on the reference page (TechEmpower's "fortunes", see
bench/site/reference.py), then on every product page, then on the reference again; a page's
ratio is its req/s over the mean of the two reference runs of its own round, and the table shows
the median over the rounds, so a machine that is busier in one minute than in the next does not
move the ratios. Pages with many addresses (detail, deep pages) pick one at random per request,
so a cache serves them only as often as it would serve real visitors.

Columns: req/s, latency p50/p99 (wrk --latency; medians over rounds), ratio to the reference,
SQL queries of one request as served (0 when the anonymous page cache answers) and with the page
cache off (what a miss costs; the bench middleware counts them), non-2xx answers. Below the table:
each gunicorn worker's RSS after the run and how many requests the run sent.
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
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFERENCE = "reference (fortunes)"
MISS = "[miss] "
MISS_HEADERS = {"Cookie": "sessionid=bench-no-such-session"}


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


def scenarios(rng: random.Random) -> list[tuple[str, list[str]]]:
    from marketplace.models import Listing
    from marketplace.selectors import ListingFilters, listing_search

    purchasable = listing_search(filters=ListingFilters())
    # Random purchasable ids: sample the id range (ORDER BY random() over a million rows is slow).
    ids = Listing.objects.order_by("pk").values_list("pk", flat=True)
    low, high = ids.first(), ids.last()
    ids = []
    if low is not None:
        candidates = [rng.randint(low, high) for _ in range(4000)]
        ids = list(purchasable.filter(pk__in=candidates).values_list("pk", flat=True)[:2000])
    ids = ids or [0]
    pages = max(1, purchasable.count() // 24)
    deep_numbers = [f"/?page={rng.randint(max(2, pages // 4), max(2, pages - 1))}" for _ in range(500)]
    found = [
        (REFERENCE, ["/bench/fortunes/"]),
        ("/ browse, first page", ["/"]),
        # A visitor with a session cookie is never served from the anonymous page cache: what a
        # miss costs on the first page (plus the session lookup a logged-in visitor has too).
        (MISS + "/ browse, first page", ["/"]),
        ("/?q=rock&sort=price_asc", ["/?q=rock&sort=price_asc"]),
        (MISS + "/?q=rock&sort=price_asc", ["/?q=rock&sort=price_asc"]),
        ("filtered+sorted+searched",
         ["/?q=springsteen&category=concert&min_price=20&max_price=2000&sort=price_desc"]),
        ("deep page=N (random)", deep_numbers),
    ]
    cursors = deep_cursor_paths(ids)
    if cursors:
        found.append(("deep 'next' cursor (random)", cursors))
    found += [
        # One listing over and over, as docs/performance.md's listing-detail goal is measured (the
        # page cache answers all but the first), then random listings, which are mostly misses.
        ("/listings/<id>/ (one listing)", [f"/listings/{ids[0]}/"]),
        ("/listings/<id>/ (random)", [f"/listings/{pk}/" for pk in ids]),
        ("/sellers/<name>/", ["/sellers/bench_seller3/"]),
        ("/api/listings/", ["/api/listings/"]),
        (MISS + "/api/listings/", ["/api/listings/"]),
    ]
    return found


LUA = """
local paths = %s
local counter = 0
init = function(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
request = function()
  return wrk.format(nil, paths[math.random(#paths)])
end
"""


def lua_script(paths: list[str], folder: Path, name: str) -> Path:
    path = folder / f"{re.sub(r'[^a-z0-9]+', '_', name.lower())}.lua"
    path.write_text(LUA % ("{" + ", ".join(json.dumps(p) for p in paths) + "}"))
    return path


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def run_wrk(base_url, paths, *, seconds, threads, connections, folder, name):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if name.startswith(MISS):
        command += [arg for header, value in MISS_HEADERS.items() for arg in ("-H", f"{header}: {value}")]
    if len(paths) > 1:
        command += ["-s", str(lua_script(paths, folder, name))]
    command.append(base_url + paths[0])
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "bad": 0,
    }
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["bad"] = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return result


def query_count(base_url, path, mode="1", name="") -> str:
    headers = {"X-Bench-Queries": mode, **(MISS_HEADERS if name.startswith(MISS) else {})}
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
        pages = [p for p in pages if p[0] == REFERENCE or any(w in p[0] for w in wanted)]
    listings = Listing.objects.count()
    purchasable = listing_search(filters=ListingFilters()).count()
    folder = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
    runs = {name: [] for name, _ in pages}
    ratios = {name: [] for name, _ in pages}
    total_requests = 0
    for name, paths in pages:  # warm up every worker: templates, connections, plans
        run_wrk(args.base_url, paths, seconds=1, threads=args.threads, connections=args.connections,
                folder=folder, name=name)
    # After the warm-up: every worker holds its database connection (a new one costs 2 queries).
    queries = {name: query_count(args.base_url, paths[0], name=name) for name, paths in pages}
    uncached = {name: query_count(args.base_url, paths[0], "uncached", name=name) for name, paths in pages}
    reference_paths = dict(pages)[REFERENCE]
    for round_number in range(args.rounds):
        def reference_run():
            return run_wrk(args.base_url, reference_paths, seconds=args.seconds, threads=args.threads,
                           connections=args.connections, folder=folder, name=REFERENCE)

        before = reference_run()
        this_round = {}
        for name, paths in pages:
            if name == REFERENCE:
                continue
            this_round[name] = run_wrk(args.base_url, paths, seconds=args.seconds, threads=args.threads,
                                       connections=args.connections, folder=folder, name=name)
        after = reference_run()
        reference_rps = (before["rps"] + after["rps"]) / 2
        runs[REFERENCE] += [before, after]
        ratios[REFERENCE].append(1.0)
        for name, result in this_round.items():
            runs[name].append(result)
            ratios[name].append(result["rps"] / reference_rps)
        total_requests += sum(r["requests"] for r in [before, after, *this_round.values()])
        print(f"  round {round_number + 1}/{args.rounds}: reference {reference_rps:,.0f} req/s",
              file=sys.stderr, flush=True)

    rows = []
    for name, _ in pages:
        results = runs[name]
        rows.append({
            "page": name,
            "rps": statistics.median(r["rps"] for r in results),
            "p50": statistics.median(r["p50"] for r in results),
            "p99": statistics.median(r["p99"] for r in results),
            "ratio": statistics.median(ratios[name]),
            "queries": queries[name],
            "uncached": uncached[name],
            "bad": sum(r["bad"] for r in results),
        })
    print()
    print(f"Pages at {listings:,} listings ({purchasable:,} purchasable); "
          f"wrk -t{args.threads} -c{args.connections}, {args.rounds} rounds x {args.seconds} s per page, "
          "alternating with the reference")
    print()
    print(f"| {'page':<30} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | {'vs ref':>6} "
          f"| {'queries':>7} | {'uncached':>8} | {'non-2xx':>7} |")
    print(f"|{'-' * 32}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 9}|{'-' * 10}|{'-' * 9}|")
    for row in rows:
        print(f"| {row['page']:<30} | {row['rps']:>8,.0f} | {row['p50']:>7.1f} | {row['p99']:>7.1f} | "
              f"{row['ratio']:>5.2f}x | {row['queries']:>7} | {row['uncached']:>8} | {row['bad']:>7} |")
    rss = worker_rss_mb(args.gunicorn_pid) if args.gunicorn_pid else []
    if rss:
        print()
        print(f"gunicorn workers' RSS after {total_requests:,} requests in this run "
              f"(~{total_requests // max(1, len(rss)):,} each): " + ", ".join(f"{mb:.0f} MB" for mb in rss))
    if args.json:
        figures = {"listings": listings, "purchasable": purchasable, "rows": rows, "rss_mb": rss,
                   "requests": total_requests}
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
