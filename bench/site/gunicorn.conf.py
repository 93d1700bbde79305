"""gunicorn settings of `make bench`: none beyond its command line (scripts/bench.sh).

It stands in for the project's gunicorn.conf.py, which gunicorn would otherwise read from the
working directory: the benchmark wants plain sync workers (docs/performance.md's figures were
measured with them), no access log on the terminal, and no max_requests recycling (its RSS line
is about long-lived workers).
"""

import os

# A Celery broker, as in production: a webhook is stored, queued and answered, not
# processed in the request (bench/webhook_load.py measures that answer). Nothing else the pages
# do queues a task. The bench's Redis (CACHE_URL) on another database number.
if os.environ.get("CACHE_URL", "").startswith("redis://"):
    raw_env = [f"CELERY_BROKER_URL={os.environ['CACHE_URL'].rsplit('/', 1)[0]}/2"]
