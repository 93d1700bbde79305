"""The benchmark's yardstick: TechEmpower's "fortunes" test, served by the same Django.

One query (the 12 rows of bench_fortune), one row added at request time, sorted, rendered by a
small template: the cheapest page a Django view that reads the database and renders HTML can
be. It runs through the product's middleware, settings, gunicorn and database, so a product
page's throughput divided by this page's, measured in the same run, says what the page costs
beyond "a Django page" however loaded the machine is.
"""

from django.core.cache import cache
from django.db import connection
from django.shortcuts import render
from django.test.utils import override_settings

from marketplace import page_cache

FORTUNE_TABLE = "bench_fortune"
FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]


def create_fortunes(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {FORTUNE_TABLE}")
    cursor.execute(f"CREATE TABLE {FORTUNE_TABLE} (id integer PRIMARY KEY, message varchar(2048) NOT NULL)")
    for number, message in enumerate(FORTUNES, start=1):
        cursor.execute(f"INSERT INTO {FORTUNE_TABLE} (id, message) VALUES (%s, %s)", [number, message])


def fortunes(request):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, message FROM {FORTUNE_TABLE}")
        rows = cursor.fetchall()
    rows.append((0, "Additional fortune added at request time."))
    rows.sort(key=lambda row: row[1])
    return render(request, "bench/fortunes.html", {"fortunes": rows})


# wrk's requests carry this header; a page one of them drew (the page cache had no copy it could
# serve) counts one on DRAWN_KEY in the bench's Redis, so bench/pages.py can say what share of a
# row's requests were misses. The writer's checks (bench/churn.py) send no such header.
BENCH_ROW_HEADER = "X-Bench-Row"
DRAWN_KEY = "bench:pages-drawn"


def drawn_counter():
    """The bench Redis's own client (one INCR, one round trip; Django's cache.incr takes two)."""
    return cache._cache.get_client(DRAWN_KEY, write=True)


def _count_drawn_pages() -> None:
    """Both page caches (the anonymous one and the logged-in visitors' shared copy) call
    page_cache.page_begin before they run the view to draw a page: mark the request there."""
    begin = page_cache.page_begin

    def marked(request):
        request._bench_drawn = True
        return begin(request)

    page_cache.page_begin = marked


_count_drawn_pages()


class QueryCountMiddleware:
    """With the request header X-Bench-Queries, answers how many SQL queries the request ran:
    `1` as served (a page cache hit runs none), `uncached` with the page cache turned off for
    this one request (what a cache miss costs). Counts the pages wrk's requests drew (DRAWN_KEY).

    Every other request costs a header lookup, and one Redis round trip when it drew its page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        mode = request.headers.get("X-Bench-Queries")
        if mode not in ("1", "uncached"):
            response = self.get_response(request)
            if getattr(request, "_bench_drawn", False) and BENCH_ROW_HEADER in request.headers:
                drawn_counter().incr(DRAWN_KEY)
            return response
        queries = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count), override_settings(
            **({"PAGE_CACHE_SECONDS": 0} if mode == "uncached" else {})
        ):
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(len(queries))
        return response
