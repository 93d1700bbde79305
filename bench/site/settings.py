"""Settings for the benchmark's gunicorn: the product's settings plus the bench-only pieces.

Only `make bench` (scripts/bench.sh) uses this module. It adds the reference page
(/bench/fortunes/, see bench/site/reference.py) and a middleware that reports, on request, how
many SQL queries a request made; the product never serves either.
"""

import copy
import os

from stubcollector.settings import *  # noqa: F403
from stubcollector.settings import BASE_DIR, MIDDLEWARE, TEMPLATES

ROOT_URLCONF = "bench.site.urls"
# First, so it counts the queries of every other middleware too (sessions, auth).
MIDDLEWARE = ["bench.site.reference.QueryCountMiddleware", *MIDDLEWARE]
TEMPLATES = copy.deepcopy(TEMPLATES)
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "site" / "templates"]

# scripts/bench.sh collects static files into its scratch folder, not the developer's var/.
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", str(STATIC_ROOT))  # noqa: F405
